"""The region-outage drill (guide 000) end to end: `chaos run` against the lab."""

from pathlib import Path
from typing import Any

import pytest

from tests.drills.drilling import assert_lands, objects, run_drill, topology_variant

pytestmark = pytest.mark.slow


def test_the_default_drill_passes_on_a_fresh_machine(tmp_path: Path):
    """README's main command: no kubeconfig, no lab running, shipped topology."""
    run = run_drill("region_outage.json", tmp_path)
    assert run.code == 0, run.log[-3000:]
    assert run.journal["status"] == "completed"
    assert run.journal["deviated"] is False
    assert run.verdict["verdict"] == "passed"
    before = run.phase("before: traffic-splits-50-50")
    assert set(before["counts"]["cluster"]) == {"cluster-a", "cluster-b"}
    failover = run.phase("method: all-traffic-fails-over-to-cluster-b")
    assert_lands(failover["counts"]["cluster"], {"cluster-b"})
    assert failover["transition_seconds"] is not None
    recovery = run.phase("method: traffic-returns-to-50-50")
    assert set(recovery["counts"]["cluster"]) == {"cluster-a", "cluster-b"}
    assert recovery["transition_seconds"] is not None
    assert run.phase("after: traffic-splits-50-50")["verdict"] == "within"


def _blackhole_us_central1(data: dict[str, Any]) -> None:
    (rule,) = objects(data, "DestinationRule")
    lb = rule["spec"]["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
    lb["distribute"][0]["to"] = {"europe-west1": 100}


def test_a_distribute_that_blackholes_a_region_fails_before_the_method(
    tmp_path: Path,
):
    """distribute europe-west1 -> europe-west1 only: the 50/50 steady state misses."""
    variant = topology_variant("guide-000", tmp_path, edit=_blackhole_us_central1)
    run = run_drill(
        "region_outage.json", tmp_path, variables={"lab_topology": str(variant)}
    )
    assert run.code != 0
    assert run.journal["status"] == "failed"
    assert run.verdict["phase"] == "before: traffic-splits-50-50"
    assert "cluster-a" in run.verdict["reasons"][0]
    assert "missed" in run.log or "FAILED" in run.log


def test_a_recovery_that_does_not_happen_fails_in_the_method_and_restores(
    tmp_path: Path,
):
    """Pods that take longer to be ready than the deadline: recovery phase misses."""
    slow = {"ready_after": 30.0, "propagation": 0.3, "terminate_after": 0.1}
    variant = topology_variant("guide-000", tmp_path, timing=slow)
    run = run_drill(
        "region_outage.json",
        tmp_path,
        variables={"lab_topology": str(variant), "recovery_deadline": "3"},
    )
    assert run.code != 0, run.log[-3000:]
    assert run.verdict["phase"] == "method: traffic-returns-to-50-50"
    assert "timeout" in run.verdict["reasons"][0]
    rollback = run.journal["rollbacks"][0]
    assert rollback["activity"]["name"] == "restore-cluster-a-replicas"
    assert rollback["status"] == "succeeded"
