"""`meshdrill mesh check` against running labs: passes on every shipped topology,
fails naming the finding when the mesh is wrong (changed live, as an operator would).
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chaosext import cli
from chaosext.lab import runtime
from tests import labfixtures

ZONE = "topology.kubernetes.io/zone"
G001 = [
    "--service",
    "httpbin/in-ambient",
    "--client",
    "httpbin/deploy/client-in-ambient",
]
TOPOLOGY_ARGS = {
    "guide-000": [
        "--service",
        "default/hello-world",
        "--client",
        "istio-system/svc/istio-ingressgateway",
        "--client-context",
        "cluster-a",
        "--tier",
        "region-outage",
    ],
    "guide-001": [*G001, "--tier", "cluster-failover"],
    "guide-001-preferclose": [*G001, "--tier", "zone-failover"],
    "guide-001-waypoint": [*G001, "--tier", "waypoint-failover"],
}


def mesh_check(
    info: runtime.LabInfo, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, Any]]:
    """Run the command as a user would, with -o json; (exit code, document)."""
    code = cli.main(
        ["mesh", "check", "--kubeconfig", str(info.kubeconfig), "-o", "json", *args]
    )
    return code, json.loads(capsys.readouterr().out)


def failed(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in document["findings"] if f["status"] == "fail"]


@pytest.mark.parametrize("topology", sorted(TOPOLOGY_ARGS))
def test_mesh_check_passes_on_each_shipped_topology(
    topology: str,
    start_lab_from: Callable[[str], runtime.LabInfo],
    capsys: pytest.CaptureFixture[str],
):
    """Exit 0, no failure, every context checked (no --context given)."""
    info = start_lab_from(topology)
    code, document = mesh_check(info, capsys, *TOPOLOGY_ARGS[topology])
    assert code == 0, failed(document)
    assert document["passed"] is True
    assert sorted(document["contexts"]) == sorted(info.clusters)
    checks = {f["check"] for f in document["findings"] if f["status"] == "pass"}
    assert {"node-locality", "workload-pods"} <= checks


@pytest.fixture(scope="module")
def waypoint_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    """A guide-001-waypoint lab shared by the variant tests (each puts back what it
    changes)."""
    directory = tmp_path_factory.mktemp("waypoint")
    path = labfixtures.write_topology(
        labfixtures.topology_dict("guide-001-waypoint"), directory
    )
    info = runtime.start_lab(str(path), directory / "state", timeout=30.0)
    try:
        labfixtures.wait_for(lambda: labfixtures._ready(info), 15, "pods ready")
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


WAYPOINT_ARGS = TOPOLOGY_ARGS["guide-001-waypoint"]


def _one_failure(document: dict[str, Any], check: str, *shown: str) -> None:
    (failure,) = failed(document)
    assert failure["check"] == check, failure
    for text in shown:
        assert text in f"{failure['subject']} {failure['message']}", failure


def test_a_node_without_its_zone_label_fails(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """node-locality names the node and the label."""
    core = labfixtures.core(waypoint_lab, "cluster2")
    core.patch_node("cluster2-node-2", {"metadata": {"labels": {ZONE: None}}})
    try:
        code, document = mesh_check(waypoint_lab, capsys, *WAYPOINT_ARGS)
    finally:
        core.patch_node(
            "cluster2-node-2", {"metadata": {"labels": {ZONE: "us-west-2b"}}}
        )
    assert code == 1
    _one_failure(document, "node-locality", "cluster2-node-2", ZONE)


def test_the_destination_rule_removed_fails(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """destination-rule: none applies to the waypoint, and the tier needs one."""
    custom = labfixtures.custom(waypoint_lab, "cluster1")
    args = ("networking.istio.io", "v1", "httpbin", "destinationrules")
    rule = custom.get_namespaced_custom_object(*args, "in-ambient-failover")
    custom.delete_namespaced_custom_object(*args, "in-ambient-failover")
    try:
        code, document = mesh_check(waypoint_lab, capsys, *WAYPOINT_ARGS)
    finally:
        body = {k: rule[k] for k in ("apiVersion", "kind", "spec")}
        body["metadata"] = {"name": "in-ambient-failover", "namespace": "httpbin"}
        custom.create_namespaced_custom_object(*args, body)
    assert code == 1
    _one_failure(document, "destination-rule", "no DestinationRule applies", "waypoint")


def test_outlier_detection_removed_fails(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """outlier-detection: failoverPriority is inactive without it."""
    custom = labfixtures.custom(waypoint_lab, "cluster1")
    args = ("networking.istio.io", "v1", "httpbin", "destinationrules")
    rule = custom.get_namespaced_custom_object(*args, "in-ambient-failover")
    outlier = rule["spec"]["trafficPolicy"]["outlierDetection"]
    patch = {"spec": {"trafficPolicy": {"outlierDetection": None}}}
    custom.patch_namespaced_custom_object(*args, "in-ambient-failover", patch)
    try:
        code, document = mesh_check(waypoint_lab, capsys, *WAYPOINT_ARGS)
    finally:
        patch = {"spec": {"trafficPolicy": {"outlierDetection": outlier}}}
        custom.patch_namespaced_custom_object(*args, "in-ambient-failover", patch)
    assert code == 1
    _one_failure(
        document, "outlier-detection", "in-ambient-failover", "outlierDetection"
    )


def _waypoint_ready(info: runtime.LabInfo, replicas: int) -> bool:
    deployment = labfixtures.apps(info, "cluster1").read_namespaced_deployment(
        "httpbin-waypoint", "httpbin"
    )
    return (deployment.status.ready_replicas or 0) == replicas


def test_the_waypoint_scaled_to_zero_fails(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """waypoint: 0 of 0 ready, in the cluster where it was scaled."""
    apps = labfixtures.apps(waypoint_lab, "cluster1")
    scale = {"spec": {"replicas": 0}}
    apps.patch_namespaced_deployment_scale("httpbin-waypoint", "httpbin", scale)
    try:
        labfixtures.wait_for(lambda: _waypoint_ready(waypoint_lab, 0), 10, "scaled")
        code, document = mesh_check(waypoint_lab, capsys, *WAYPOINT_ARGS)
    finally:
        scale = {"spec": {"replicas": 1}}
        apps.patch_namespaced_deployment_scale("httpbin-waypoint", "httpbin", scale)
        labfixtures.wait_for(lambda: _waypoint_ready(waypoint_lab, 1), 10, "back")
    assert code == 1
    _one_failure(document, "waypoint", "httpbin/httpbin-waypoint", "0 of 0")
    assert failed(document)[0]["context"] == "cluster1"


def test_an_unknown_context_is_one_line_naming_those_there_are(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """Bad input: exit 2, one line, no traceback."""
    code = cli.main(
        [
            "mesh",
            "check",
            "--kubeconfig",
            str(waypoint_lab.kubeconfig),
            "--context",
            "nope",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "'nope'" in err
    assert "cluster1" in err


def test_an_unknown_client_is_one_line_naming_what_exists(
    waypoint_lab: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
):
    """Bad input: exit 2, the client named, and the namespace's deployments."""
    code = cli.main(
        [
            "mesh",
            "check",
            "--kubeconfig",
            str(waypoint_lab.kubeconfig),
            "--service",
            "httpbin/in-ambient",
            "--client",
            "httpbin/deploy/nope",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "deployment httpbin/nope not found" in err
    assert "deploy/client-in-ambient" in err
