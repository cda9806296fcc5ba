"""Traffic sampled through a live guide-001 lab (exec + curl, the guide's way) agrees
with `explain`'s prediction from the topology file (chi-square at 99%).

Each scenario starts its own lab, applies the guide's step through the API, waits
until a small batch lands only where explain says, then samples a few hundred curls.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import api_client, wait_for

HOST = "in-ambient.httpbin.mesh.internal"
URL = f"{HOST}:8000/hostname"
CLIENT = "client-in-ambient"
DISTRIBUTION = "networking.istio.io/traffic-distribution"

Act = Callable[[runtime.LabInfo], None]


def nothing(_: runtime.LabInfo) -> None:
    """No change: the topology as shipped."""


def prefer_close(info: runtime.LabInfo) -> None:
    """Guide step 4: annotate the Service PreferClose in both clusters."""
    for context in info.clusters:
        with api_client(info, context) as api:
            client.CoreV1Api(api).patch_namespaced_service(
                "in-ambient",
                "httpbin",
                {"metadata": {"annotations": {DISTRIBUTION: "PreferClose"}}},
            )


def cluster1_to_zero(info: runtime.LabInfo) -> None:
    """Guide steps 3, 4 and 6: scale in-ambient in cluster1 to zero."""
    with api_client(info, "cluster1") as api:
        client.AppsV1Api(api).patch_namespaced_deployment_scale(
            "in-ambient", "httpbin", {"spec": {"replicas": 0}}
        )


def both(*acts: Act) -> Act:
    def run(info: runtime.LabInfo) -> None:
        for act in acts:
            act(info)

    return run


@dataclass(frozen=True)
class Scenario:
    topology: str
    act: Act
    cluster: str  # the client's cluster
    count: int
    down: tuple[str, ...] = ()
    traffic_distribution: str | None = None


SCENARIOS = {
    "prefer-network": Scenario("guide-001", nothing, "cluster1", 200),
    "prefer-network-cluster1-down": Scenario(
        "guide-001", cluster1_to_zero, "cluster1", 200, ("cluster=cluster1",)
    ),
    "prefer-close": Scenario(
        "guide-001", prefer_close, "cluster1", 80, (), "PreferClose"
    ),
    "prefer-close-cluster1-down": Scenario(
        "guide-001",
        both(prefer_close, cluster1_to_zero),
        "cluster1",
        200,
        ("cluster=cluster1",),
        "PreferClose",
    ),
    "waypoint": Scenario("guide-001-waypoint", nothing, "cluster1", 80),
    "waypoint-cluster2-client": Scenario("guide-001-waypoint", nothing, "cluster2", 80),
    "waypoint-cluster1-down": Scenario(
        "guide-001-waypoint", cluster1_to_zero, "cluster1", 200, ("cluster=cluster1",)
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_sampled_traffic_agrees_with_explain(name: str, tmp_path: Path) -> None:
    """The split a client sees matches explain's prediction (chi-square, 99%)."""
    scenario = SCENARIOS[name]
    with meshsample.running_lab(scenario.topology, tmp_path) as info:
        expected = meshsample.predicted(
            info,
            scenario.cluster,
            CLIENT,
            HOST,
            down=scenario.down,
            traffic_distribution=scenario.traffic_distribution,
        )
        scenario.act(info)

        def batch(count: int) -> Counter[str]:
            seen = meshsample.sample_exec(info, scenario.cluster, URL, count)
            return meshsample.by_zone(info, seen)

        wait_for(
            lambda: meshsample.converged(lambda: batch(20), expected),
            15,
            f"{name}: traffic where explain predicts {expected}",
            interval=0.1,
        )
        observed = batch(scenario.count)
        assert meshsample.agrees(observed, expected), (observed, expected)
