"""The objects real clients rely on: pod defaults, ReplicaSets owned by Deployments
(rollout history and undo), Endpoints and EndpointSlices kept by a controller, and
Events (core/v1 and events.k8s.io/v1) for what the controllers, the scheduler and
the kubelet do. Each test uses kubectl 1.32 or the `kubernetes` client as a user
would; each failed on the lab before these objects existed."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chaosext.lab import runtime
from tests.labfixtures import (
    api_client,
    apps,
    core,
    kubectl,
    needs_kubectl,
    running_lab,
    topology_dict,
    wait_for,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    with running_lab(topology_dict(), tmp_path_factory.mktemp("objects-lab")) as info:
        yield info


@pytest.fixture(scope="module")
def cache(kubectl_cache: Path) -> Path:
    return kubectl_cache


def _ready(lab: runtime.LabInfo, name: str, context: str = "cluster-a") -> bool:
    deploy = apps(lab, context).read_namespaced_deployment(name, "default")
    status = deploy.status
    return bool(
        status.updated_replicas == deploy.spec.replicas
        and status.ready_replicas == deploy.spec.replicas
        and (status.replicas or 0) == deploy.spec.replicas
    )


def _make(lab: runtime.LabInfo, name: str, replicas: int = 1) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "web:1"}]},
            },
        },
    }
    apps(lab).create_namespaced_deployment("default", body)
    wait_for(lambda: _ready(lab, name), 10, f"{name} ready")


def test_pods_carry_the_defaults_a_real_api_server_fills(lab: runtime.LabInfo) -> None:
    """Service account, its token volume and mount, tolerations, priority:
    chaostoolkit-kubernetes' drain reads `spec.volumes` (None crashed it)."""
    pods = core(lab).list_namespaced_pod("default", label_selector="app=hello-world")
    assert pods.items
    for pod in pods.items:
        volumes = pod.spec.volumes
        assert [v.name[:16] for v in volumes] == ["kube-api-access-"]
        assert volumes[0].projected.sources[0].service_account_token.path == "token"
        mounts = pod.spec.containers[0].volume_mounts
        assert [m.mount_path for m in mounts] == [
            "/var/run/secrets/kubernetes.io/serviceaccount"
        ]
        assert pod.spec.service_account_name == "default"
        assert pod.spec.priority == 0
        assert {t.key for t in pod.spec.tolerations} == {
            "node.kubernetes.io/not-ready",
            "node.kubernetes.io/unreachable",
        }


def test_pods_are_owned_by_a_replicaset_owned_by_the_deployment(
    lab: runtime.LabInfo,
) -> None:
    """Each pod's controller is a stored ReplicaSet, whose controller is the
    Deployment (uids match, as the garbage collector and kubectl need)."""
    deploy = apps(lab).read_namespaced_deployment("hello-world", "default")
    pods = core(lab).list_namespaced_pod("default", label_selector="app=hello-world")
    for pod in pods.items:
        (owner,) = pod.metadata.owner_references
        assert owner.kind == "ReplicaSet"
        rs = apps(lab).read_namespaced_replica_set(owner.name, "default")
        assert rs.metadata.uid == owner.uid
        (rs_owner,) = rs.metadata.owner_references
        assert (rs_owner.kind, rs_owner.uid) == ("Deployment", deploy.metadata.uid)
        assert rs.status.ready_replicas == deploy.spec.replicas
        assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"


@needs_kubectl
def test_rollout_history_and_undo(lab: runtime.LabInfo, cache: Path) -> None:
    """`set image`, `rollout history` lists two revisions, `rollout undo` brings
    the first template back on its own ReplicaSet (revision 3)."""
    _make(lab, "rollme", 2)
    kubectl(lab, cache, "set", "image", "deploy/rollme", "web=web:2")
    kubectl(lab, cache, "rollout", "status", "deploy/rollme", "--timeout=20s")
    history = kubectl(lab, cache, "rollout", "history", "deploy/rollme").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line] == [
        "1",
        "2",
    ]
    first = kubectl(
        lab, cache, "get", "rs", "-l", "app=rollme", "-o",
        "jsonpath={.items[?(@.spec.template.spec.containers[0].image=='web:1')]"
        ".metadata.name}",
    ).stdout  # fmt: skip
    kubectl(lab, cache, "rollout", "undo", "deploy/rollme")
    kubectl(lab, cache, "rollout", "status", "deploy/rollme", "--timeout=20s")
    rs = apps(lab).read_namespaced_replica_set(first, "default")
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert rs.status.ready_replicas == 2
    image = kubectl(
        lab, cache, "get", "deploy", "rollme", "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ).stdout  # fmt: skip
    assert image == "web:1"
    owned = apps(lab).list_namespaced_replica_set(
        "default", label_selector="app=rollme"
    )
    assert len(owned.items) == 2


def _endpoint_pods(lab: runtime.LabInfo) -> tuple[set[str], set[str]]:
    endpoints = core(lab).read_namespaced_endpoints("hello-world", "default")
    ep_pods = {
        a.target_ref.name for s in endpoints.subsets or [] for a in s.addresses or []
    }
    discovery = client.DiscoveryV1Api(api_client(lab, "cluster-a"))
    slices = discovery.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=hello-world"
    ).items
    slice_pods = {
        e.target_ref.name for s in slices for e in s.endpoints if e.conditions.ready
    }
    return ep_pods, slice_pods


@needs_kubectl
def test_endpoints_and_slices_follow_the_pods(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """Endpoints and the EndpointSlice list the ready pods, with the service's
    target port and each node's zone; they follow a scale-up."""
    pods = core(lab).list_namespaced_pod("default", label_selector="app=hello-world")
    names = {p.metadata.name for p in pods.items}
    assert _endpoint_pods(lab) == (names, names)
    slices = client.DiscoveryV1Api(api_client(lab, "cluster-a"))
    (found,) = slices.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=hello-world"
    ).items
    assert [p.port for p in found.ports] == [8080]
    zone = {
        n.metadata.name: n.metadata.labels["topology.kubernetes.io/zone"]
        for n in core(lab).list_node().items
    }
    assert sorted(e.zone for e in found.endpoints) == sorted(
        zone[p.spec.node_name] for p in pods.items
    )
    described = kubectl(lab, cache, "describe", "svc", "hello-world").stdout
    assert "Endpoints:                127.0.0.1:8080,127.0.0.1:8080" in described
    kubectl(lab, cache, "scale", "deploy/hello-world", "--replicas=3")
    try:
        wait_for(lambda: len(_endpoint_pods(lab)[0]) == 3, 10, "3 endpoints")
        assert _endpoint_pods(lab)[0] == _endpoint_pods(lab)[1]
    finally:
        kubectl(lab, cache, "scale", "deploy/hello-world", "--replicas=2")
        wait_for(lambda: len(_endpoint_pods(lab)[1]) == 2, 10, "2 endpoints")


def _reasons(lab: runtime.LabInfo, **selector: Any) -> list[tuple[str, str]]:
    events = core(lab).list_event_for_all_namespaces(**selector).items
    return [(e.reason, e.message) for e in events]


@needs_kubectl
def test_events_for_scale_delete_cordon(lab: runtime.LabInfo, cache: Path) -> None:
    """Scale, delete and cordon leave the Events a real cluster shows, from the
    deployment and replicaset controllers, the scheduler and the kubelet."""
    _make(lab, "evented")
    kubectl(lab, cache, "scale", "deploy/evented", "--replicas=2")
    wait_for(lambda: _ready(lab, "evented"), 10, "evented scaled")
    pods = core(lab).list_namespaced_pod("default", label_selector="app=evented")
    victim = pods.items[0].metadata.name
    kubectl(lab, cache, "delete", "pod", victim, "--wait=true")
    kubectl(lab, cache, "cordon", "cluster-a-node-2")
    kubectl(lab, cache, "uncordon", "cluster-a-node-2")
    uncordoned = (
        "NodeSchedulable",
        "Node cluster-a-node-2 status is now: NodeSchedulable",
    )
    seen = wait_for(
        lambda: (r := _reasons(lab)) and uncordoned in r and r, 10, "the uncordon event"
    )
    rs_name = pods.items[0].metadata.owner_references[0].name
    assert ("ScalingReplicaSet", f"Scaled up replica set {rs_name} from 1 to 2") in seen
    assert ("Killing", "Stopping container web") in seen
    assert ("SuccessfulCreate", f"Created pod: {victim}") in seen
    about_victim = _reasons(lab, field_selector=f"involvedObject.name={victim}")
    assert sorted(r for r, _ in about_victim) == [
        "Created", "Killing", "Pulled", "Scheduled", "Started",
    ]  # fmt: skip
    assert (
        "NodeNotSchedulable",
        "Node cluster-a-node-2 status is now: NodeNotSchedulable",
    ) in seen
    out = kubectl(lab, cache, "get", "events", "--field-selector",
                  f"involvedObject.name={victim}").stdout  # fmt: skip
    assert out.splitlines()[0].split() == [
        "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE",
    ]  # fmt: skip
    assert f"pod/{victim}" in out


def test_events_k8s_io_serves_the_same_events(lab: runtime.LabInfo) -> None:
    """`events.k8s.io/v1` lists the stored Events with its field names
    (regarding, note, reportingController), as chaostoolkit-kubernetes reads them."""
    events = client.EventsV1Api(api_client(lab, "cluster-a"))
    listed = events.list_event_for_all_namespaces(limit=500).items
    core_names = {
        e.metadata.name for e in core(lab).list_event_for_all_namespaces().items
    }
    assert {e.metadata.name for e in listed} == core_names
    scheduled = next(e for e in listed if e.reason == "Scheduled")
    assert scheduled.reporting_controller == "default-scheduler"
    assert scheduled.regarding.kind == "Pod"
    assert scheduled.note.startswith("Successfully assigned default/")
    assert scheduled.event_time is not None


@needs_kubectl
def test_a_paused_deployment_rolls_out_on_resume(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`rollout pause`: a new template makes no ReplicaSet until `rollout resume`."""
    _make(lab, "paused")
    kubectl(lab, cache, "rollout", "pause", "deploy/paused")
    kubectl(lab, cache, "set", "image", "deploy/paused", "web=web:2")

    def paused() -> bool:
        deploy = apps(lab).read_namespaced_deployment("paused", "default")
        return any(c.reason == "DeploymentPaused" for c in deploy.status.conditions)

    wait_for(paused, 10, "the DeploymentPaused condition")
    listed = apps(lab).list_namespaced_replica_set(
        "default", label_selector="app=paused"
    )
    assert len(listed.items) == 1
    kubectl(lab, cache, "rollout", "resume", "deploy/paused")
    kubectl(lab, cache, "rollout", "status", "deploy/paused", "--timeout=20s")
    pods = core(lab).list_namespaced_pod("default", label_selector="app=paused")
    running = [p for p in pods.items if not p.metadata.deletion_timestamp]
    assert {p.spec.containers[0].image for p in running} == {"web:2"}
