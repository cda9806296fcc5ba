"""The real `kubernetes` client (v37, strict pydantic models) against the lab's API."""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest
from kubernetes import client

from chaosext.lab import cli as labcli
from chaosext.lab import runtime, tls
from tests.labfixtures import apps, core, custom, topology_dict, wait_for

ZONE = "topology.kubernetes.io/zone"
StartLab = Callable[[dict[str, Any]], runtime.LabInfo]


def pod_names(info: runtime.LabInfo, context: str = "cluster-a") -> set[str]:
    pods = core(info, context).list_namespaced_pod("default", label_selector="app")
    return {
        p.metadata.name
        for p in pods.items
        if not p.metadata.deletion_timestamp and p.metadata.labels.get("app")
    }


def ready_pods(info: runtime.LabInfo, context: str = "cluster-a") -> set[str]:
    pods = core(info, context).list_namespaced_pod(
        "default", label_selector="app=hello-world"
    )
    return {
        p.metadata.name
        for p in pods.items
        if not p.metadata.deletion_timestamp
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions)
    }


def test_nodes_carry_zone_region_and_network_labels(lab000: runtime.LabInfo) -> None:
    """Nodes list with their topology labels, one zone per node."""
    nodes = core(lab000, "cluster-b").list_node().items
    assert {n.metadata.name: n.metadata.labels[ZONE] for n in nodes} == {
        "cluster-b-node-1": "us-central1-a",
        "cluster-b-node-2": "us-central1-b",
    }
    labels = nodes[0].metadata.labels
    assert labels["topology.kubernetes.io/region"] == "us-central1"
    assert labels["topology.istio.io/network"] == "network-b"


def test_pods_spread_over_both_zones(lab000: runtime.LabInfo) -> None:
    """The two hello-world pods of a cluster land on nodes in different zones."""
    pods = core(lab000).list_namespaced_pod("default", label_selector="app=hello-world")
    assert sorted(p.spec.node_name for p in pods.items) == [
        "cluster-a-node-1",
        "cluster-a-node-2",
    ]


def test_label_and_field_selectors(lab000: runtime.LabInfo) -> None:
    """Pods list by label selector combined with a spec.nodeName field selector."""
    pods = core(lab000).list_pod_for_all_namespaces(
        label_selector="app in (hello-world)",
        field_selector="spec.nodeName=cluster-a-node-2,status.phase=Running",
    )
    assert [p.spec.node_name for p in pods.items] == ["cluster-a-node-2"]
    assert pods.items[0].metadata.name.startswith("hello-world-")


def test_pods_are_named_like_replicaset_pods(lab000: runtime.LabInfo) -> None:
    """Pod names are <deployment>-<10-char hash>-<5-char suffix>."""
    for name in pod_names(lab000):
        prefix, pod_hash, suffix = name.rsplit("-", 2)
        assert (prefix, len(pod_hash), len(suffix)) == ("hello-world", 10, 5)


def test_served_objects_validate_against_kubernetes_schemas(
    lab000: runtime.LabInfo,
) -> None:
    """Nodes, pods, deployments and services pass kubernetes 1.32 strict schemas."""
    url = lab000.clusters["cluster-a"]
    checked = 0
    for path in (
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/api/v1/services",
    ):
        for item in labcli.api_get(lab000, url, path)["items"]:
            kubernetes_validate.validate(item, "1.32", strict=True)
            checked += 1
    assert checked >= 8


def test_scale_subresource_reads_and_patches(start_lab_from: StartLab) -> None:
    """GET and PATCH the Scale of a Deployment; pods follow the new count."""
    info = start_lab_from(topology_dict())
    api = apps(info)
    scale = api.read_namespaced_deployment_scale("hello-world", "default")
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=hello-world")
    api.patch_namespaced_deployment_scale(
        "hello-world", "default", {"spec": {"replicas": 3}}
    )
    wait_for(lambda: len(ready_pods(info)) == 3, message="3 ready pods")
    status = api.read_namespaced_deployment_status("hello-world", "default").status
    assert (status.ready_replicas, status.available_replicas) == (3, 3)


def test_cordoned_node_gets_no_new_pods(start_lab_from: StartLab) -> None:
    """After a cordon (spec.unschedulable patch), new pods go to other nodes."""
    info = start_lab_from(topology_dict())
    core(info).patch_node("cluster-a-node-1", {"spec": {"unschedulable": True}})
    apps(info).patch_namespaced_deployment_scale(
        "hello-world", "default", {"spec": {"replicas": 4}}
    )
    wait_for(lambda: len(ready_pods(info)) == 4, message="4 ready pods")
    nodes = [
        p.spec.node_name
        for p in core(info).list_namespaced_pod("default", label_selector="app").items
    ]
    assert nodes.count("cluster-a-node-1") == 1  # only the pod that was already there


def test_all_nodes_cordoned_leaves_pods_pending(start_lab_from: StartLab) -> None:
    """With every node cordoned a replacement pod stays Pending, Unschedulable."""
    info = start_lab_from(topology_dict())
    api = core(info)
    for node in ("cluster-a-node-1", "cluster-a-node-2"):
        api.patch_node(node, {"spec": {"unschedulable": True}})
    victim = sorted(ready_pods(info))[0]
    api.delete_namespaced_pod(victim, "default")

    def pending() -> list[Any]:
        pods = api.list_namespaced_pod("default", field_selector="status.phase=Pending")
        return pods.items

    pod = wait_for(pending, message="a pending pod")[0]
    assert pod.status.conditions[0].reason == "Unschedulable"
    api.patch_node("cluster-a-node-2", {"spec": {"unschedulable": False}})
    wait_for(lambda: len(ready_pods(info)) == 2, message="pending pod scheduled")


def test_deleted_pod_is_replaced(start_lab_from: StartLab) -> None:
    """Deleting a pod gracefully makes the controller create a replacement."""
    info = start_lab_from(topology_dict())
    before = ready_pods(info)
    victim = sorted(before)[0]
    deleted = core(info).delete_namespaced_pod(victim, "default")
    assert deleted.metadata.deletion_timestamp is not None

    def replaced() -> set[str] | None:
        names = ready_pods(info)
        return names if len(names) == 2 and victim not in names else None

    after = wait_for(replaced, message="a ready replacement")
    assert len(after - before) == 1


def test_eviction_removes_the_pod(start_lab_from: StartLab) -> None:
    """A policy/v1 Eviction deletes the pod, and it is replaced."""
    info = start_lab_from(topology_dict())
    victim = sorted(ready_pods(info))[0]
    body = client.V1Eviction(
        metadata=client.V1ObjectMeta(name=victim, namespace="default")
    )
    core(info).create_namespaced_pod_eviction(victim, "default", body)
    wait_for(lambda: victim not in pod_names(info), message=f"{victim} gone")
    wait_for(lambda: len(ready_pods(info)) == 2, message="replacement ready")


def test_missing_deployment_is_404_status(lab000: runtime.LabInfo) -> None:
    """Reading a missing Deployment raises ApiException 404 with a NotFound Status."""
    with pytest.raises(client.ApiException) as err:
        apps(lab000).read_namespaced_deployment("nope", "default")
    assert err.value.status == 404
    body = json.loads(str(err.value.body))
    assert (body["kind"], body["reason"]) == ("Status", "NotFound")
    assert body["message"] == 'deployments.apps "nope" not found'


def test_requests_without_token_are_401(lab000: runtime.LabInfo) -> None:
    """A request without the bearer token gets 401 and an Unauthorized Status."""
    url = lab000.clusters["cluster-a"] + "/api/v1/pods"
    context = tls.client_context(lab000.state_dir / tls.CA_FILE)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=5, context=context)
    assert err.value.code == 401
    assert json.loads(err.value.read())["reason"] == "Unauthorized"


def test_gateway_service_points_at_the_real_port(lab000: runtime.LabInfo) -> None:
    """The ingress gateway Service is a LoadBalancer on 127.0.0.1 at its real port."""
    svc = core(lab000).read_namespaced_service("istio-ingressgateway", "istio-system")
    assert svc.spec.type == "LoadBalancer"
    assert svc.status.load_balancer.ingress[0].ip == "127.0.0.1"
    port = svc.spec.ports[0].port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname", timeout=5) as r:
        assert r.read().decode().startswith("hello-world-")


def test_destination_rules_are_custom_objects(lab000: runtime.LabInfo) -> None:
    """The guide's DestinationRule is served at v1, v1beta1 and v1alpha3."""
    api = custom(lab000, "cluster-b")
    for version in ("v1", "v1beta1", "v1alpha3"):
        rule = api.get_namespaced_custom_object(
            "networking.istio.io", version, "default", "destinationrules", "hello-world"
        )
        assert rule["apiVersion"] == f"networking.istio.io/{version}"
        assert rule["spec"]["host"] == "hello-world.default.svc.cluster.local"


def test_invalid_destination_rule_is_rejected(lab000: runtime.LabInfo) -> None:
    """A DestinationRule istiod would reject is refused like Istio's webhook does."""
    api = custom(lab000, "cluster-a")
    rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "bad"},
        "spec": {
            "host": "hello-world",
            "trafficPolicy": {
                "loadBalancer": {
                    "localityLbSetting": {
                        "distribute": [{"from": "europe-west1", "to": {"x": 30}}]
                    }
                }
            },
        },
    }
    with pytest.raises(client.ApiException) as err:
        api.create_namespaced_custom_object(
            "networking.istio.io", "v1", "default", "destinationrules", rule
        )
    assert err.value.status == 400
    assert "validation.istio.io" in json.loads(str(err.value.body))["message"]
