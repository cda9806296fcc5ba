"""Each tier drill on a wrong mesh fails at `before: preflight`, naming the finding,
and changes nothing: the method never runs, no object carries a restore record.

One drill per kind of wrong mesh, each on a different tier. Where the wrong mesh
can be written as a topology (a DestinationRule edited), the drill starts its own
lab from the variant; where it is a live change (a node's label removed, the
waypoint scaled to zero), the test starts the lab, changes it as an operator
would, and points the drill at it with MESHDRILL_KUBECONFIG.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import runtime
from tests import labfixtures
from tests.drills.drilling import DrillRun, drill_env, run_drill, topology_variant

pytestmark = pytest.mark.slow

ZONE = "topology.kubernetes.io/zone"
RESTORE = "meshdrill.io/restore"


def _assert_stopped_at_preflight(run: DrillRun, *shown: str) -> str:
    """Exit non-zero, failed at `before: preflight`, method not run; the reason
    names the finding."""
    assert run.code != 0, run.log[-3000:]
    assert run.journal["status"] == "failed"
    assert run.verdict["verdict"] == "failed"
    assert run.verdict["phase"] == "before: preflight", run.verdict["reasons"]
    reason = run.verdict["reasons"][0]
    for text in shown:
        assert text in reason, reason
    assert run.journal["run"] == []
    return reason


def _untouched(info: runtime.LabInfo, replicas: dict[str, dict[str, int]]) -> None:
    """Deployments keep their replicas; no node or deployment holds a record."""
    for context in info.clusters:
        apps = labfixtures.apps(info, context)
        for deploy in apps.list_deployment_for_all_namespaces().items:
            key = f"{deploy.metadata.namespace}/{deploy.metadata.name}"
            assert deploy.spec.replicas == replicas[context][key], key
            assert RESTORE not in (deploy.metadata.annotations or {}), key
        for node in labfixtures.core(info, context).list_node().items:
            assert not node.spec.unschedulable, node.metadata.name
            assert RESTORE not in (node.metadata.annotations or {}), node.metadata.name


def _replicas(info: runtime.LabInfo) -> dict[str, dict[str, int]]:
    return {
        context: {
            f"{d.metadata.namespace}/{d.metadata.name}": d.spec.replicas
            for d in labfixtures.apps(info, context)
            .list_deployment_for_all_namespaces()
            .items
        }
        for context in info.clusters
    }


def _drill_on(info: runtime.LabInfo, experiment: str, tmp: Path) -> DrillRun:
    env = drill_env(tmp, MESHDRILL_KUBECONFIG=str(info.kubeconfig))
    allowed = {"allowed_contexts": ",".join(info.clusters)}  # the guard wants it
    return run_drill(experiment, tmp, env=env, variables=allowed)


def test_a_node_without_its_zone_label_stops_the_zone_failover_drill(
    tmp_path: Path, start_lab_from: Callable[[Any], runtime.LabInfo]
):
    """node-locality names the node; the client's zone keeps its pods."""
    info = start_lab_from("guide-001-preferclose")
    labfixtures.core(info, "cluster1").patch_node(
        "cluster1-node-2", {"metadata": {"labels": {ZONE: None}}}
    )
    before = _replicas(info)
    run = _drill_on(info, "zone_failover.json", tmp_path)
    _assert_stopped_at_preflight(run, "node-locality", "cluster1-node-2", ZONE)
    _untouched(info, before)
    assert (
        labfixtures.core(info, "cluster1")
        .list_namespaced_pod("httpbin", label_selector="app=in-ambient")
        .items
    ), "the same-zone pods were not deleted"


def test_the_waypoint_scaled_to_zero_stops_the_waypoint_drill(
    tmp_path: Path, start_lab_from: Callable[[Any], runtime.LabInfo]
):
    """waypoint: 0 of 0 ready; cluster 1's workload is not scaled."""
    info = start_lab_from("guide-001-waypoint")
    apps = labfixtures.apps(info, "cluster1")
    apps.patch_namespaced_deployment_scale(
        "httpbin-waypoint", "httpbin", {"spec": {"replicas": 0}}
    )
    labfixtures.wait_for(
        lambda: (
            not apps.read_namespaced_deployment(
                "httpbin-waypoint", "httpbin"
            ).status.ready_replicas
        ),
        10,
        "the waypoint scaled to zero",
    )
    before = _replicas(info)
    run = _drill_on(info, "waypoint_failover.json", tmp_path)
    _assert_stopped_at_preflight(run, "waypoint", "httpbin/httpbin-waypoint", "0 of 0")
    _untouched(info, before)


def test_the_destination_rule_removed_stops_the_region_outage_drill(tmp_path: Path):
    """destination-rule: none applies to the ingress gateway; cluster A not scaled."""

    def no_rule(data: dict[str, Any]) -> None:
        for entry in data["resources"]:
            entry["manifest"] = [
                o for o in entry["manifest"] if o.get("kind") != "DestinationRule"
            ]
        data["resources"] = [e for e in data["resources"] if e["manifest"]]

    variant = topology_variant("guide-000", tmp_path, edit=no_rule)
    run = run_drill(
        "region_outage.json", tmp_path, variables={"lab_topology": str(variant)}
    )
    _assert_stopped_at_preflight(
        run, "destination-rule", "hello-world.default.svc.cluster.local"
    )
    assert run.verdict["restore"]["failed"] == []
