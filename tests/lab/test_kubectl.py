"""kubectl 1.32 (from PATH) against a detached lab, through the lab's kubeconfig."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from chaosext.lab import runtime
from tests.labfixtures import (
    kubectl,
    needs_kubectl,
    running_lab,
    topology_dict,
    wait_for,
)

pytestmark = needs_kubectl


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    with running_lab(topology_dict(), tmp_path_factory.mktemp("kubectl-lab")) as info:
        yield info


@pytest.fixture(scope="module")
def cache(kubectl_cache: Path) -> Path:
    return kubectl_cache


def run(lab: runtime.LabInfo, cache: Path, *args: str) -> str:
    return kubectl(lab, cache, *args).stdout


def hello_pods(lab: runtime.LabInfo, cache: Path, context: str = "cluster-a") -> str:
    return run(
        lab, cache, "--context", context, "get", "pods", "-l", "app=hello-world",
        "-o", "jsonpath={.items[*].metadata.name}",
    )  # fmt: skip


def test_contexts_are_named_after_clusters(lab: runtime.LabInfo, cache: Path) -> None:
    """The kubeconfig has one context per cluster, named like the cluster."""
    out = run(lab, cache, "config", "get-contexts", "-o", "name")
    assert out.split() == ["cluster-a", "cluster-b"]


def test_get_nodes_with_zone_column(lab: runtime.LabInfo, cache: Path) -> None:
    """`get nodes -L topology.kubernetes.io/zone` shows each node's zone."""
    out = run(lab, cache, "--context", "cluster-b", "get", "nodes", "-L",
              "topology.kubernetes.io/zone")  # fmt: skip
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "ZONE"]
    assert lines[1].split()[0::5] == ["cluster-b-node-1", "us-central1-a"]
    assert lines[2].split()[0::5] == ["cluster-b-node-2", "us-central1-b"]


def test_get_pods_all_namespaces(lab: runtime.LabInfo, cache: Path) -> None:
    """`get pods -A` lists hello-world and the ingress gateway with namespaces."""
    wait_for(lambda: hello_pods(lab, cache).count("hello-world") == 2)
    out = run(lab, cache, "get", "pods", "-A")
    namespaces = {line.split()[0] for line in out.splitlines()[1:]}
    assert namespaces == {"default", "istio-system"}
    assert "istio-ingressgateway-" in out


def test_get_pods_wide_shows_nodes(lab: runtime.LabInfo, cache: Path) -> None:
    """`get pods -o wide` shows the IP and NODE columns."""
    wait_for(lambda: hello_pods(lab, cache).count("hello-world") == 2)
    out = run(lab, cache, "get", "pods", "-o", "wide")
    header = out.splitlines()[0].split()
    assert header[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert {line.split()[6] for line in out.splitlines()[1:]} == {
        "cluster-a-node-1",
        "cluster-a-node-2",
    }


def test_scale_to_zero_and_back(lab: runtime.LabInfo, cache: Path) -> None:
    """`scale --replicas=0` removes the pods; scaling back and `rollout status` wait."""
    run(lab, cache, "scale", "deployment", "hello-world", "--replicas=0")
    wait_for(lambda: hello_pods(lab, cache) == "", message="no hello-world pods")
    run(lab, cache, "scale", "deployment", "hello-world", "--replicas=2")
    out = run(lab, cache, "rollout", "status", "deployment/hello-world",
              "--timeout=20s")  # fmt: skip
    assert 'deployment "hello-world" successfully rolled out' in out
    assert len(hello_pods(lab, cache).split()) == 2


def test_cordon_and_uncordon(lab: runtime.LabInfo, cache: Path) -> None:
    """`cordon` marks the node SchedulingDisabled; `uncordon` clears it."""
    run(lab, cache, "cordon", "cluster-a-node-1")
    try:
        out = run(lab, cache, "get", "node", "cluster-a-node-1", "--no-headers")
        assert out.split()[1] == "Ready,SchedulingDisabled"
    finally:
        run(lab, cache, "uncordon", "cluster-a-node-1")
    out = run(lab, cache, "get", "node", "cluster-a-node-1", "--no-headers")
    assert out.split()[1] == "Ready"


def test_delete_pod_is_replaced(lab: runtime.LabInfo, cache: Path) -> None:
    """`delete pod` waits for the pod to go, and the Deployment replaces it."""
    wait_for(lambda: len(hello_pods(lab, cache).split()) == 2)
    victim = hello_pods(lab, cache).split()[0]
    out = run(lab, cache, "delete", "pod", victim)
    assert f'pod "{victim}" deleted' in out

    def replaced() -> list[str] | None:
        names = hello_pods(lab, cache).split()
        return names if len(names) == 2 and victim not in names else None

    assert len(wait_for(replaced, message="a replacement pod")) == 2


def test_get_destinationrules(lab: runtime.LabInfo, cache: Path) -> None:
    """`get destinationrules` shows the guide's rule and its host."""
    out = run(lab, cache, "--context", "cluster-b", "get", "destinationrules")
    assert out.splitlines()[1].split()[:2] == [
        "hello-world",
        "hello-world.default.svc.cluster.local",
    ]


def test_apply_and_delete_a_destination_rule(
    lab: runtime.LabInfo, cache: Path, tmp_path: Path
) -> None:
    """`apply -f` creates a DestinationRule (validation on), `delete -f` removes it."""
    manifest = tmp_path / "dr.yaml"
    manifest.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: extra, namespace: default}\n"
        "spec: {host: hello-world}\n"
    )
    assert "created" in run(lab, cache, "apply", "-f", str(manifest))
    assert "unchanged" in run(lab, cache, "apply", "-f", str(manifest))
    assert "deleted" in run(lab, cache, "delete", "-f", str(manifest))


def test_missing_object_is_not_found(lab: runtime.LabInfo, cache: Path) -> None:
    """kubectl reports a missing Deployment as NotFound from the server."""
    result = kubectl(lab, cache, "get", "deployment", "nope", check=False)
    assert result.returncode == 1
    assert 'deployments.apps "nope" not found' in result.stderr
