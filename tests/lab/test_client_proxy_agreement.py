"""Guide 000 through the live lab agrees with `explain` (chi-square at 99%): the
ingress gateway, and a client pod whose sidecar applies the same DestinationRule."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import api_client, gateway_url, wait_for

HOST = "hello-world.default.svc.cluster.local"
GATEWAY = "istio-ingressgateway"
SIDECAR = "sleep"


def add_sidecar_client(data: dict[str, Any]) -> None:
    """A client pod with a sidecar in cluster-a's second zone."""
    data["clients"] = [
        {
            "name": SIDECAR,
            "namespace": "default",
            "cluster": "cluster-a",
            "zone": "europe-west1-c",
            "proxy": "sidecar",
        }
    ]


def nothing(_: runtime.LabInfo) -> None:
    """No change: the topology as shipped."""


def cluster_a_to_zero(info: runtime.LabInfo) -> None:
    """Guide 000's fault: scale hello-world in cluster-a to zero."""
    with api_client(info, "cluster-a") as api:
        client.AppsV1Api(api).patch_namespaced_deployment_scale(
            "hello-world", "default", {"spec": {"replicas": 0}}
        )


@dataclass(frozen=True)
class Scenario:
    chooser: str
    act: Callable[[runtime.LabInfo], None]
    count: int
    down: tuple[str, ...] = ()


SCENARIOS = {
    "gateway": Scenario(GATEWAY, nothing, 300),
    "gateway-cluster-a-down": Scenario(
        GATEWAY, cluster_a_to_zero, 200, ("cluster=cluster-a",)
    ),
    "sidecar": Scenario(SIDECAR, nothing, 200),
    "sidecar-cluster-a-down": Scenario(
        SIDECAR, cluster_a_to_zero, 200, ("cluster=cluster-a",)
    ),
}


def sampler(info: runtime.LabInfo, chooser: str) -> Callable[[int], Counter[str]]:
    """Sample through the gateway (HTTP) or from the client pod (exec + curl)."""
    if chooser == GATEWAY:
        url = gateway_url(info) + "/hostname"
        return lambda n: meshsample.sample_http(url, n)
    return lambda n: meshsample.sample_exec(
        info, "cluster-a", f"{HOST}/hostname", n, app=SIDECAR, ns="default"
    )


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_sampled_traffic_agrees_with_explain(name: str, tmp_path: Path) -> None:
    """The split the gateway or the sidecar client sees matches explain's."""
    scenario = SCENARIOS[name]
    with meshsample.running_lab("guide-000", tmp_path, add_sidecar_client) as info:
        expected = meshsample.predicted(
            info, "cluster-a", scenario.chooser, HOST, down=scenario.down
        )
        scenario.act(info)
        sample = sampler(info, scenario.chooser)

        def batch(count: int) -> Counter[str]:
            return meshsample.by_zone(info, sample(count))

        wait_for(
            lambda: meshsample.converged(lambda: batch(20), expected),
            15,
            f"{name}: traffic where explain predicts {expected}",
            interval=0.1,
        )
        observed = batch(scenario.count)
        assert meshsample.agrees(observed, expected), (observed, expected)
