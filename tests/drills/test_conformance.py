"""experiments/conformance.json: no hand-written numbers, on every shipped topology,
and a clear failure (locality and numbers) when traffic and the config disagree."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import runtime
from tests import labfixtures
from tests.drills.drilling import ROOT, drill_env, run_drill

pytestmark = pytest.mark.slow

GUIDE_001 = ROOT / "experiments" / "config" / "conformance-guide-001.yaml"
RESTORE = "meshdrill.io/restore"


@pytest.mark.parametrize(
    "topology",
    ["guide-000", "guide-001", "guide-001-preferclose", "guide-001-waypoint"],
)
def test_conformance_passes_on_each_shipped_topology(tmp_path: Path, topology: str):
    """Exit 0; every cluster the client reaches was taken down and came back."""
    var_files = [] if topology == "guide-000" else [GUIDE_001]
    run = run_drill(
        "conformance.json",
        tmp_path,
        var_files=var_files,
        variables={"lab_topology": topology},
    )
    assert run.code == 0, run.log[-3000:]
    assert run.verdict["verdict"] == "passed", run.verdict["reasons"]
    (method,) = run.journal["run"]
    output = method["output"]
    reached = {c for c, share in output["baseline"].items() if share > 0}
    assert {loc["locality"] for loc in output["localities"]} == {
        f"cluster {c}" for c in reached
    }
    for locality in output["localities"]:
        assert locality["failover"]["passed"], locality
        assert locality["recovery"]["passed"], locality


def test_traffic_that_lags_the_config_fails_naming_locality_and_numbers(
    tmp_path: Path, start_lab_from: Callable[[Any], runtime.LabInfo]
):
    """Cluster A's pods keep answering and the data plane keeps them for 10 s after
    the scale to zero, while the config (the API) already says 100% cluster B: with
    a 3 s failover deadline, traffic disagrees with the prediction."""
    slow = {"propagation": 10.0, "terminate_after": 10.0}
    info = start_lab_from(labfixtures.topology_dict("guide-000", **slow))
    env = drill_env(tmp_path, MESHDRILL_KUBECONFIG=str(info.kubeconfig))
    run = run_drill(
        "conformance.json",
        tmp_path,
        env=env,
        variables={
            "allowed_contexts": ",".join(info.clusters),
            "failover_deadline": "3",
        },
    )
    assert run.code != 0, run.log[-3000:]
    assert run.verdict["phase"] == "method: lose-each-locality-in-turn"
    reason = run.verdict["reasons"][0]
    assert "cluster cluster-a down, failover: predicted {'cluster-b': 1.0}" in reason
    assert "'cluster-a': " in reason  # the sampled counts show it still answering
    apps = labfixtures.apps(info, "cluster-a")
    deployment = apps.read_namespaced_deployment("hello-world", "default")
    assert deployment.spec.replicas == 2
    assert RESTORE not in (deployment.metadata.annotations or {})
