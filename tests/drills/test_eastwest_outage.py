"""eastwest_outage.json: cluster 2's east-west gateway down while cluster 1 fails.

On guide 001's topology the drill passes: the client's own cluster answers; with
the gateway down and cluster 1 at zero every request fails (the failover has
nowhere to go), and the journal says why; the gateway back, traffic fails over to
cluster 2; cluster 1 back, it returns. On broken variants it fails, naming the
phase and the numbers:
- one flat network (Istio multi-primary on the same network, PreferClose): the
  gateway is not in the way, so "nowhere to go" never comes;
- the gateway pinned to a zone whose node is cordoned (maintenance): once it is
  down it cannot come back, so the failover never comes;
- the gateway's Service without its `topology.istio.io/network` label: istiod
  knows no gateway for cluster2's network, so failover never had anywhere to go
  (the drill says so before it changes anything), and the lab's traffic agrees:
  cluster1's client, with nothing left in cluster1, reaches nothing in cluster2.
"""

from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import runtime
from tests.drills.drilling import (
    DrillRun,
    assert_lands,
    run_drill,
    topology_variant,
)
from tests.lab import meshsample
from tests.labfixtures import apps, core, wait_for

pytestmark = pytest.mark.slow

EXPERIMENT = "eastwest_outage.json"
NOWHERE = "method: failover-has-nowhere-to-go"
OUT_OF_REACH = "method: cluster2-out-of-reach"
FAILOVER = "method: traffic-fails-over-to-cluster2"
RECOVERY = "method: traffic-returns-in-cluster1"
SHORT = {"failover_deadline": "6"}
TD = "networking.istio.io/traffic-distribution"
NETWORK = "topology.istio.io/network"
URL = "in-ambient.httpbin.mesh.internal:8000/hostname"


@pytest.fixture(scope="module")
def passed(tmp_path_factory: pytest.TempPathFactory) -> DrillRun:
    """The drill on a fresh machine (its own lab, shipped timing), once."""
    return run_drill(EXPERIMENT, tmp_path_factory.mktemp("eastwest"))


def test_the_drill_passes_on_a_fresh_machine(passed: DrillRun) -> None:
    """Exit 0, completed, not deviated, verdict passed, nothing left to restore."""
    assert passed.code == 0, passed.log[-3000:]
    assert passed.journal["status"] == "completed"
    assert passed.journal["deviated"] is False
    assert passed.verdict["verdict"] == "passed", passed.verdict.get("reasons")
    assert passed.verdict["restore"]["failed"] == []


def test_with_the_gateway_down_every_request_fails(passed: DrillRun) -> None:
    """Nowhere to go: only errors (resets, as ztunnel gives them), share ~1."""
    nowhere = passed.phase(NOWHERE)
    assert nowhere["verdict"] == "within"
    assert nowhere["shares"] == {"error": 1.0}
    low, high = nowhere["intervals"]["error"]
    assert low > 0.97
    assert high == 1.0
    assert set(nowhere["errors"]) == {"reset"}
    for by in ("cluster", "region", "zone", "pod"):
        assert set(nowhere["counts"][by]) == {"error"}, nowhere["counts"]
    assert nowhere["transition_seconds"] is not None


def test_the_journal_says_why_failover_has_nowhere_to_go(passed: DrillRun) -> None:
    """The reach phase names cluster2's network, its gateway and its readiness."""
    finding = passed.phase(OUT_OF_REACH)["finding"]
    assert finding.startswith("failover to cluster2 has nowhere to go: ")
    for words in (
        "cluster2's 2 ready endpoints of in-ambient.httpbin.mesh.internal",
        "on network cluster2-network",
        "istio-system/istio-eastwestgateway in cluster2",
        "which has no ready replica",
    ):
        assert words in finding
    before = passed.phase("before: cluster2-within-reach")["finding"]
    assert before.startswith("failover to cluster2 has somewhere to go: ")


def test_the_gateway_back_lets_traffic_fail_over_then_return(
    passed: DrillRun,
) -> None:
    """Gateway restored: all cluster2 (timed); cluster1 restored: all cluster1."""
    failover = passed.phase(FAILOVER)
    assert failover["transition_seconds"] is not None
    assert_lands(failover["counts"]["cluster"], {"cluster2"})
    recovery = passed.phase(RECOVERY)
    assert recovery["transition_seconds"] is not None
    assert_lands(recovery["counts"]["cluster"], {"cluster1"})


# -- broken meshes -----------------------------------------------------------------


def _flat_network(data: dict[str, Any]) -> None:
    """Both clusters on one network, PreferClose: cluster1's zone first, then
    its region, then cluster2, reached directly (no east-west gateway needed)."""
    for cluster in data["clusters"]:
        cluster["network"] = "flat-network"
    for namespace in data["namespaces"]:
        if isinstance(namespace, dict) and TD in namespace.get("annotations", {}):
            namespace["annotations"][TD] = "PreferClose"


def _assert_missed(run: DrillRun, phase: str, *shown: str) -> str:
    """Non-zero exit, interrupted in the method at `phase`, its reason shows
    `shown`, and everything the drill changed is back."""
    assert run.code != 0, run.log[-3000:]
    assert run.journal["status"] == "interrupted"
    assert run.verdict["verdict"] == "failed"
    assert run.verdict["phase"] == phase, run.verdict["reasons"]
    reason = str(run.verdict["reasons"][0])
    print(reason)
    assert reason.startswith(f"{phase}: "), reason
    for text in shown:
        assert text in reason, reason
    assert run.verdict["restore"]["failed"] == []
    for rollback in run.journal["rollbacks"]:
        assert rollback["status"] == "succeeded", rollback
    return reason


def test_on_one_flat_network_the_drill_does_not_pass_vacuously(
    tmp_path: Path,
) -> None:
    """Cluster2 reached without the gateway: "nowhere to go" misses, cluster2 named."""
    variant = topology_variant("guide-001", tmp_path, edit=_flat_network)
    run = run_drill(
        EXPERIMENT, tmp_path, variables={"lab_topology": str(variant), **SHORT}
    )
    _assert_missed(run, NOWHERE, "within 6 s", "{'error': 1.0}", "'cluster2': ")
    assert run.phase("before: in-cluster1")["verdict"] == "within"
    reach = run.phase("before: cluster2-within-reach")["finding"]
    assert "no east-west gateway in the way" in reach
    assert run.phase(NOWHERE)["batches"][-1]["counts"] == {"cluster2": 50}


def test_a_gateway_that_cannot_come_back_fails_the_failover(tmp_path: Path) -> None:
    """Gateway pinned to us-west-2a, whose node is cordoned: its replacement stays
    Pending, cluster2 stays out of reach, the failover wait times out on errors."""
    variant = topology_variant("guide-001", tmp_path)
    lab = runtime.start_lab(str(variant), tmp_path / "lab", timeout=30.0)
    try:
        cordon = {"spec": {"unschedulable": True}}
        core(lab, "cluster2").patch_node("cluster2-node-1", cordon)
        run = run_drill(
            EXPERIMENT, tmp_path, variables={"lab_topology": str(variant), **SHORT}
        )
        gateway = lab_gateway(lab)
    finally:
        runtime.stop_lab(lab.state_dir)
    _assert_missed(run, FAILOVER, "within 6 s", "{'cluster2': 1.0}", "no answer")
    assert run.phase(NOWHERE)["verdict"] == "within"
    assert run.phase(FAILOVER)["transition_errors"]["no_answer"] > 0
    assert gateway == (1, 0)  # restored to 1 replica, which cannot be scheduled


def lab_gateway(lab: runtime.LabInfo) -> tuple[int, int]:
    """(replicas, ready replicas) of cluster2's east-west gateway."""
    dep = apps(lab, "cluster2").read_namespaced_deployment(
        "istio-eastwestgateway", "istio-system"
    )
    return dep.spec.replicas, dep.status.ready_replicas or 0


def test_a_gateway_istiod_does_not_know_fails_before_the_outage(
    tmp_path: Path,
) -> None:
    """The gateway Service unlabelled: the steady state's reach names the label;
    the lab routes as a real mesh would: cluster1's client, with cluster1 at zero,
    gets only errors (resets), though cluster2's gateway pod is ready."""
    variant = topology_variant("guide-001", tmp_path)
    lab = runtime.start_lab(str(variant), tmp_path / "lab", timeout=30.0)
    try:
        unlabel = {"metadata": {"labels": {NETWORK: None}}}
        core(lab, "cluster2").patch_namespaced_service(
            "istio-eastwestgateway", "istio-system", unlabel
        )
        run = run_drill(EXPERIMENT, tmp_path, variables={"lab_topology": str(variant)})
        apps(lab, "cluster1").patch_namespaced_deployment_scale(
            "in-ambient", "httpbin", {"spec": {"replicas": 0}}
        )

        def answers() -> set[str]:
            return set(meshsample.sample_exec(lab, "cluster1", URL, 10))

        wait_for(lambda: answers() == {meshsample.ERROR}, 20, "cluster2 unreachable")
        gateway = lab_gateway(lab)
    finally:
        runtime.stop_lab(lab.state_dir)
    assert gateway == (1, 1)  # the gateway itself is up: only istiod cannot know it
    phase = "before: cluster2-within-reach"
    assert run.code != 0, run.log[-3000:]
    assert run.journal["status"] == "failed"
    assert run.verdict["phase"] == phase, run.verdict["reasons"]
    reason = str(run.verdict["reasons"][0])
    print(reason)
    assert reason.startswith(f"{phase}: not within tolerance: expected reachable")
    assert f"no Service is labelled {NETWORK}=cluster2-network" in reason
    assert run.journal["run"] == []  # nothing was changed
