"""A topology's `access:` restricts the kubeconfig's user to RBAC rules, so a
drill's RBAC failures can be tested: kubectl and the client get the API server's
403 Forbidden, and `auth can-i` / `auth whoami` answer for that user."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from chaosext.lab import runtime, topology
from tests.labfixtures import (
    core,
    kubectl,
    needs_kubectl,
    running_lab,
    topology_dict,
    write_topology,
)

READ_ONLY = [
    {"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale"], "verbs": ["patch"]},
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    with running_lab(
        topology_dict() | {"access": READ_ONLY}, tmp_path_factory.mktemp("access-lab")
    ) as info:
        yield info


@pytest.fixture(scope="module")
def cache(kubectl_cache: Path) -> Path:
    return kubectl_cache


@needs_kubectl
def test_can_i_answers_from_the_rules(lab: runtime.LabInfo, cache: Path) -> None:
    yes = kubectl(lab, cache, "auth", "can-i", "list", "pods")
    assert (yes.returncode, yes.stdout) == (0, "yes\n")
    no = kubectl(lab, cache, "auth", "can-i", "delete", "pods", check=False)
    assert (no.returncode, no.stdout) == (1, "no\n")
    sub = kubectl(
        lab, cache, "auth", "can-i", "patch", "deployments", "--subresource=scale"
    )
    assert sub.stdout == "yes\n"
    whoami = kubectl(lab, cache, "auth", "whoami").stdout
    assert "system:masters" not in whoami
    assert "system:authenticated" in whoami


@needs_kubectl
def test_a_denied_request_is_forbidden_as_kubernetes_words_it(
    lab: runtime.LabInfo, cache: Path
) -> None:
    pod = core(lab).list_namespaced_pod("default").items[0].metadata.name
    denied = kubectl(lab, cache, "delete", "pod", pod, check=False)
    assert denied.returncode == 1
    assert denied.stderr == (
        f'Error from server (Forbidden): pods "{pod}" is forbidden: User '
        '"meshdrill-lab" cannot delete resource "pods" in API group "" in the '
        'namespace "default"\n'
    )
    cordon = kubectl(lab, cache, "cordon", "cluster-a-node-1", check=False)
    assert 'cannot patch resource "nodes" in API group "" at the cluster scope' in (
        cordon.stderr
    )


def test_the_client_gets_403(lab: runtime.LabInfo) -> None:
    api = core(lab)
    assert api.list_namespaced_pod("default").items
    with pytest.raises(ApiException) as caught:
        api.list_namespaced_service("default")
    assert caught.value.status == 403


def test_a_bad_access_rule_names_the_file_line_and_field(tmp_path: Path) -> None:
    data = topology_dict() | {"access": [{"apiGroups": [""], "verbs": ["get"]}]}
    path = write_topology(data, tmp_path)
    with pytest.raises(topology.TopologyError) as caught:
        topology.load(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert "access[0]" in message
    assert "resources" in message
