"""kubectl 1.32 commands that failed against the lab and now answer as a real API
server does: discovery, `create namespace|deployment` (protobuf bodies), the
self-reviews behind `auth can-i` and `auth whoami`, a strategic merge patch on a
custom resource (415), server-side field validation, `explain`."""

import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from chaosext.lab import authz, cli, runtime
from tests.labfixtures import (
    KUBECTL,
    apps,
    core,
    kubectl,
    kubectl_env,
    needs_kubectl,
    running_lab,
    topology_dict,
    wait_for,
)

pytestmark = needs_kubectl


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    with running_lab(
        topology_dict(), tmp_path_factory.mktemp("api-kubectl-lab")
    ) as info:
        yield info


@pytest.fixture(scope="module")
def cache(kubectl_cache: Path) -> Path:
    return kubectl_cache


def test_api_resources_lists_every_group_it_serves(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`kubectl api-resources` exits 0 (no group is listed without resources)."""
    out = kubectl(lab, cache, "api-resources", "-o", "name").stdout.split()
    for name in (
        "pods", "replicasets.apps", "endpoints", "endpointslices.discovery.k8s.io",
        "events.events.k8s.io", "selfsubjectaccessreviews.authorization.k8s.io",
        "destinationrules.networking.istio.io",
    ):  # fmt: skip
        assert name in out


def test_create_namespace_deployment_service(lab: runtime.LabInfo, cache: Path) -> None:
    """`kubectl create namespace|deployment|service` send protobuf bodies: the
    lab decodes them and the deployment rolls out."""
    kubectl(lab, cache, "create", "namespace", "made")
    kubectl(lab, cache, "create", "deployment", "web", "-n", "made",
            "--image=nginx:1.27", "--replicas=2", "--port=80")  # fmt: skip
    kubectl(lab, cache, "rollout", "status", "deploy/web", "-n", "made",
            "--timeout=20s")  # fmt: skip
    deploy = apps(lab).read_namespaced_deployment("web", "made")
    assert deploy.spec.replicas == 2
    assert deploy.spec.selector.match_labels == {"app": "web"}
    (container,) = deploy.spec.template.spec.containers
    assert (container.name, container.image) == ("nginx", "nginx:1.27")
    assert [p.container_port for p in container.ports] == [80]
    assert deploy.metadata.creation_timestamp is not None
    kubectl(lab, cache, "create", "service", "clusterip", "web", "-n", "made",
            "--tcp=80:8080")  # fmt: skip
    service = core(lab).read_namespaced_service("web", "made")
    (port,) = service.spec.ports
    assert (port.port, port.target_port, service.spec.selector) == (
        80, 8080, {"app": "web"},
    )  # fmt: skip
    kubectl(lab, cache, "delete", "namespace", "made")


def test_auth_can_i_and_whoami_answer_for_the_admin(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """Without `access:` in the topology, the kubeconfig's user may do anything."""
    assert kubectl(lab, cache, "auth", "can-i", "delete", "pods").stdout == "yes\n"
    assert kubectl(lab, cache, "auth", "can-i", "create", "pods/exec").stdout == (
        "yes\n"
    )
    whoami = kubectl(lab, cache, "auth", "whoami").stdout
    assert "meshdrill-lab" in whoami
    assert "system:masters" in whoami


def test_strategic_merge_patch_on_a_custom_resource_is_415(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """As for any custom resource, a strategic merge patch on a DestinationRule
    is refused; a merge patch works."""
    manifest = cache / "dr.yaml"
    manifest.write_text(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
        "metadata: {name: smp}\nspec: {host: hello-world}\n"
    )
    kubectl(lab, cache, "apply", "-f", str(manifest))
    patch = '{"spec": {"trafficPolicy": {"connectionPool": {}}}}'
    refused = kubectl(lab, cache, "patch", "dr", "smp", "--type=strategic",
                      "-p", patch, check=False)  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "error: application/strategic-merge-patch+json is not supported by "
        "networking.istio.io/v1, Kind=DestinationRule: the body of the request was "
        "in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )
    kubectl(lab, cache, "patch", "dr", "smp", "--type=merge", "-p", patch)
    kubectl(lab, cache, "delete", "dr", "smp")


def test_requests_are_recorded_with_verb_and_resource(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """Each resource request is a line of requests.jsonl in the state dir."""
    kubectl(lab, cache, "--context", "cluster-b", "get", "rs", "-n", "istio-system")
    wanted = {
        "cluster": "cluster-b",
        "verb": "list",
        "group": "apps",
        "resource": "replicasets",
        "subresource": "",
        "namespace": "istio-system",
        "name": "",
    }
    assert wanted in authz.read_requests(lab.state_dir)


TYPO_DR = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: typo}
spec:
  host: hello-world
  trafficPolicy:
    outlierDetecton: {consecutive5xxErrors: 1}
"""
TYPO_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  replica: 2
  selector: {matchLabels: {app: typo}}
  template:
    metadata: {labels: {app: typo}}
    spec:
      containers: [{name: web, image: web:1, imagePullPolicey: Always}]
"""


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            TYPO_DR,
            'DestinationRule in version "v1" cannot be handled as a DestinationRule: '
            'strict decoding error: unknown field "spec.trafficPolicy.outlierDetecton"',
        ),
        (
            TYPO_DEPLOY,
            'Deployment in version "v1" cannot be handled as a Deployment: strict '
            'decoding error: unknown field "spec.replica", unknown field '
            '"spec.template.spec.containers[0].imagePullPolicey"',
        ),
    ],
    ids=["destinationrule", "deployment"],
)
def test_field_validation_strict_warn_ignore(
    lab: runtime.LabInfo, cache: Path, manifest: str, message: str
) -> None:
    """kubectl's default (Strict) rejects an unknown field with the API server's
    message; --validate=warn stores the object with a warning per field;
    --validate=false (Ignore) says nothing."""
    path = cache / "typo.yaml"
    path.write_text(manifest)
    kind = "dr" if "DestinationRule" in manifest else "deploy"
    strict = kubectl(lab, cache, "apply", "-f", str(path), check=False)
    assert strict.returncode == 1
    assert strict.stderr == (
        f'Error from server (BadRequest): error when creating "{path}": {message}\n'
    )
    warned = kubectl(lab, cache, "create", "-f", str(path), "--validate=warn")
    fields = message.split("strict decoding error: ")[1].split(", ")
    assert warned.stderr.splitlines() == [f"Warning: {field}" for field in fields]
    kubectl(lab, cache, "delete", kind, "typo")
    quiet = kubectl(lab, cache, "create", "-f", str(path), "--validate=false")
    assert quiet.stderr == ""
    kubectl(lab, cache, "delete", kind, "typo")


def test_explain_reads_the_openapi_v3_schemas(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`kubectl explain` finds built-in and Istio kinds by their GVK extension."""
    replicas = kubectl(lab, cache, "explain", "deployment.spec.replicas").stdout
    assert "FIELD: replicas <integer>" in replicas
    assert "Number of desired pods." in replicas
    outlier = kubectl(lab, cache, "explain", "dr.spec.trafficPolicy").stdout
    assert "KIND:       DestinationRule" in outlier
    assert "outlierDetection" in outlier
    swagger = core_api_get(lab, "/openapi/v2")
    gvk = swagger["definitions"]["io.k8s.api.apps.v1.Deployment"][
        "x-kubernetes-group-version-kind"
    ]
    assert gvk == [{"group": "apps", "kind": "Deployment", "version": "v1"}]


def core_api_get(lab: runtime.LabInfo, path: str) -> dict[str, Any]:
    return cli.api_get(lab, lab.clusters["cluster-a"], path)


def test_get_watch_rows_keep_ready_and_status(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`kubectl get pods -w` prints each change with its READY and STATUS: the
    watch events are one-row Tables, as the API server sends them."""
    kubectl(lab, cache, "create", "deployment", "watched", "--image=web:1")
    kubectl(lab, cache, "rollout", "status", "deploy/watched", "--timeout=20s")
    assert KUBECTL is not None
    watcher = subprocess.Popen(
        [KUBECTL, "get", "pods", "-l", "app=watched", "-w", "--no-headers"],
        stdout=subprocess.PIPE, text=True, env=kubectl_env(lab, cache),
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(watcher.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        wait_for(lambda: lines, 10, "the first row")
        kubectl(lab, cache, "scale", "deploy/watched", "--replicas=2")
        wait_for(
            lambda: len(lines) >= 3 and lines[-1].split()[1:3] == ["1/1", "Running"],
            10,
            "a change row with READY and STATUS",
        )
    finally:
        watcher.kill()
        watcher.wait()
    statuses = {line.split()[2] for line in lines}
    assert statuses <= {"Pending", "ContainerCreating", "Running"}
    assert all(line.split()[1] in ("0/1", "1/1") for line in lines)
    kubectl(lab, cache, "delete", "deploy", "watched")


def test_logs_follow_and_timestamps(lab: runtime.LabInfo, cache: Path) -> None:
    """`kubectl logs -f` streams new lines until the pod is deleted;
    `--timestamps` prefixes each line with its RFC 3339 time."""
    kubectl(lab, cache, "create", "deployment", "logged", "--image=web:1")
    kubectl(lab, cache, "rollout", "status", "deploy/logged", "--timeout=20s")
    (pod,) = core(lab).list_namespaced_pod("default", label_selector="app=logged").items
    address = pod.metadata.annotations["lab.meshdrill.io/address"]
    stamped = kubectl(lab, cache, "logs", pod.metadata.name, "--timestamps").stdout
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \d{4}/\d\d/\d\d \d\d:\d\d:\d\d "
        r"Server listening on port \d+\n",
        stamped,
    )
    assert KUBECTL is not None
    follower = subprocess.Popen(
        [KUBECTL, "logs", "-f", pod.metadata.name],
        stdout=subprocess.PIPE, text=True, env=kubectl_env(lab, cache),
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(follower.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    ).start()
    try:
        wait_for(lambda: lines, 10, "the first log line")
        requests.get(f"http://{address}/hostname", timeout=5)
        wait_for(lambda: any("Serving request: /hostname" in x for x in lines), 10)
        assert follower.poll() is None  # still following
        kubectl(lab, cache, "delete", "deploy", "logged")
        wait_for(lambda: follower.poll() is not None, 10, "the stream to end")
    finally:
        follower.kill()
        follower.wait()


SSA_DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, labels: {team: a}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers: [{name: web, image: web:1}]
"""


def test_server_side_apply_managers_and_conflicts(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`apply --server-side` records its fields for the `kubectl` manager; a
    field another manager changed is a conflict worded as the API words it,
    taken over with --force-conflicts; a field no longer applied is removed."""
    path = cache / "ssa.yaml"
    path.write_text(SSA_DEPLOY)
    applied = kubectl(lab, cache, "apply", "--server-side", "-f", str(path))
    assert applied.stdout == "deployment.apps/ssa serverside-applied\n"
    deploy = apps(lab).read_namespaced_deployment("ssa", "default")
    (entry,) = deploy.metadata.managed_fields
    assert (entry.manager, entry.operation) == ("kubectl", "Apply")
    assert entry.fields_v1["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}
    }
    kubectl(lab, cache, "patch", "deploy", "ssa", "-p", '{"spec":{"replicas":3}}')
    conflict = kubectl(lab, cache, "apply", "--server-side", "-f", str(path),
                       check=False)  # fmt: skip
    assert conflict.returncode == 1
    assert conflict.stderr.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl-patch" using '
        "apps/v1: .spec.replicas\n"
    )
    kubectl(lab, cache, "apply", "--server-side", "--force-conflicts", "-f", str(path))
    deploy = apps(lab).read_namespaced_deployment("ssa", "default")
    assert deploy.spec.replicas == 2
    path.write_text(SSA_DEPLOY.replace("labels: {team: a}", "labels: {}"))
    kubectl(lab, cache, "apply", "--server-side", "-f", str(path))
    deploy = apps(lab).read_namespaced_deployment("ssa", "default")
    assert "team" not in (deploy.metadata.labels or {})
    kubectl(lab, cache, "delete", "deploy", "ssa")


def test_port_forward_reaches_the_pod(lab: runtime.LabInfo, cache: Path) -> None:
    """`kubectl port-forward` (SPDY in a websocket) reaches the pod's server; a
    port nothing listens on is an error on the error stream."""
    pod = core(lab).list_namespaced_pod("default", label_selector="app=hello-world")
    name = pod.items[0].metadata.name
    assert KUBECTL is not None
    forwarder = subprocess.Popen(
        [KUBECTL, "port-forward", f"pod/{name}", ":8080", ":9999"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=kubectl_env(lab, cache),
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(forwarder.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    ).start()
    try:
        ports = wait_for(
            lambda: (
                [
                    int(m.group(1))
                    for line in lines
                    if (m := re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> ", line))
                ][:2]
                if len(lines) >= 4
                else None
            ),
            10,
            "the local ports",
        )
        for _ in range(3):
            answer = requests.get(f"http://127.0.0.1:{ports[0]}/hostname", timeout=5)
            assert answer.text == name
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{ports[1]}/hostname", timeout=5)
        wait_for(lambda: any("connection refused" in line for line in lines), 10)
    finally:
        forwarder.kill()
        forwarder.wait()
