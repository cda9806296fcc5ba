"""Guide 001 against a detached guide-001 lab: `kubectl exec` into the client pod and
curl the global host, exactly as the guide does; exec refused into other pods."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from chaosext import cli
from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import KUBECTL, api_client, kubectl, needs_kubectl

GLOBAL_URL = "in-ambient.httpbin.mesh.internal:8000/hostname"
POD_NAME = re.compile(r"^in-ambient-[a-z0-9]{10}-[a-z0-9]{5}$")


@pytest.fixture(scope="module")
def lab001(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    with meshsample.running_lab("guide-001", tmp_path_factory.mktemp("g001")) as info:
        yield info


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kubecache")


def in_ambient_pods(info: runtime.LabInfo, context: str) -> set[str]:
    return set(meshsample.pod_names(info, context, "in-ambient", "httpbin"))


@needs_kubectl
def test_kubectl_exec_curl_prints_a_pod_name(
    lab001: runtime.LabInfo, cache: Path
) -> None:
    """The guide's `kubectl exec deploy/client-in-ambient -- curl -s ...` prints a pod
    of cluster1 (PreferNetwork keeps traffic in the client's network)."""
    done = kubectl(
        lab001,
        cache,
        "--context=cluster1",
        "exec",
        "-n",
        "httpbin",
        "deploy/client-in-ambient",
        "--",
        "curl",
        "-s",
        GLOBAL_URL,
    )
    assert POD_NAME.match(done.stdout), done.stdout
    assert done.stdout in in_ambient_pods(lab001, "cluster1")


@needs_kubectl
def test_kubectl_guide_loop(lab001: runtime.LabInfo, cache: Path) -> None:
    """The guide's `sh -c "for i in $(seq 1 10); do curl ...; done"` gives 10 names."""
    loop = f"for i in $(seq 1 10); do curl -s {GLOBAL_URL}; echo; done"
    done = kubectl(
        lab001,
        cache,
        "--context=cluster1",
        "exec",
        "-n",
        "httpbin",
        "deploy/client-in-ambient",
        "--",
        "sh",
        "-c",
        loop,
    )
    names = done.stdout.split()
    assert len(names) == 10
    assert set(names) <= in_ambient_pods(lab001, "cluster1")


@needs_kubectl
def test_kubectl_exec_refused_into_a_workload_pod(
    lab001: runtime.LabInfo, cache: Path
) -> None:
    """Exec into a pod the topology does not declare as a client is forbidden."""
    pod = sorted(in_ambient_pods(lab001, "cluster1"))[0]
    done = kubectl(
        lab001,
        cache,
        "--context=cluster1",
        "exec",
        "-n",
        "httpbin",
        pod,
        "--",
        "true",
        check=False,
    )
    assert done.returncode != 0
    assert f'pods "{pod}" is forbidden' in done.stderr
    assert "httpbin/client-in-ambient" in done.stderr


@needs_kubectl
def test_kubectl_exec_exit_code_passes_through(
    lab001: runtime.LabInfo, cache: Path
) -> None:
    """kubectl exits with the command's exit code (Status on channel 3)."""
    assert KUBECTL is not None
    done = kubectl(
        lab001,
        cache,
        "--context=cluster2",
        "exec",
        "-n",
        "httpbin",
        "deploy/client-in-ambient",
        "--",
        "sh",
        "-c",
        "exit 7",
        check=False,
    )
    assert done.returncode == 7


@pytest.mark.parametrize("protocol", ["v5.channel.k8s.io", "v4.channel.k8s.io"])
def test_stream_curl_prints_a_pod_name(lab001: runtime.LabInfo, protocol: str) -> None:
    """The kubernetes client's stream() (v5 and v4) runs the guide's curl."""
    pod = meshsample.client_pod(lab001, "cluster2", "client-in-ambient", "httpbin")
    with api_client(lab001, "cluster2") as api:
        out = stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            pod,
            "httpbin",
            command=["curl", "-s", GLOBAL_URL],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            _headers={"sec-websocket-protocol": protocol},
        )
    assert out in in_ambient_pods(lab001, "cluster2")


def test_stream_refused_into_a_workload_pod(lab001: runtime.LabInfo) -> None:
    """stream() into a workload pod fails with 403 naming the pod."""
    pod = sorted(in_ambient_pods(lab001, "cluster2"))[0]
    with api_client(lab001, "cluster2") as api, pytest.raises(ApiException) as info:
        stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            pod,
            "httpbin",
            command=["true"],
            stdout=True,
        )
    assert "403" in str(info.value.reason)
    assert pod in str(info.value.reason)


def test_exec_env_points_at_the_client_proxy(lab001: runtime.LabInfo) -> None:
    """The command runs with HOSTNAME = the client pod and http_proxy on loopback."""
    pod = meshsample.client_pod(lab001, "cluster1", "client-in-ambient", "httpbin")
    out, _, code = meshsample.exec_in(
        lab001, "cluster1", "httpbin", pod, 'echo "$HOSTNAME $http_proxy"'
    )
    hostname, proxy = out.split()
    assert code == 0
    assert hostname == pod
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proxy)


def test_short_service_name_resolves_in_the_namespace(lab001: runtime.LabInfo) -> None:
    """`curl in-ambient:8000` from httpbin reaches in-ambient.httpbin (search path)."""
    pod = meshsample.client_pod(lab001, "cluster1", "client-in-ambient", "httpbin")
    out, _, _ = meshsample.exec_in(
        lab001, "cluster1", "httpbin", pod, "curl -s in-ambient:8000/hostname"
    )
    assert out in in_ambient_pods(lab001, "cluster1")


def test_unknown_host_is_502(lab001: runtime.LabInfo) -> None:
    """A host no Service serves gets 502 from the client's proxy."""
    pod = meshsample.client_pod(lab001, "cluster1", "client-in-ambient", "httpbin")
    script = "curl -s -o /dev/null -w '%{http_code}' nothing.example:8000/"
    out, _, _ = meshsample.exec_in(lab001, "cluster1", "httpbin", pod, script)
    assert out == "502"


def test_ztunnel_keeps_one_pod_per_connection(lab001: runtime.LabInfo) -> None:
    """ztunnel balances connections, not requests: one keep-alive curl fetching ten
    URLs gets one pod, while the cluster has two equal endpoints."""
    pod = meshsample.client_pod(lab001, "cluster1", "client-in-ambient", "httpbin")
    urls = " ".join([f"-w '\\n' {GLOBAL_URL}"] * 10)
    out, _, _ = meshsample.exec_in(
        lab001, "cluster1", "httpbin", pod, f"curl -s {urls}"
    )
    assert len(out.split()) == 10
    assert len(set(out.split())) == 1


def test_status_shows_the_predicted_split(
    lab001: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    """`meshdrill lab status` ends with each client's predicted split."""
    code = cli.main(["lab", "status", "--state-dir", str(lab001.state_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "predicted split" in out
    assert "cluster1/us-east-1a 50%, cluster1/us-east-1b 50%" in out


def test_explain_live_uses_real_pod_names(
    lab001: runtime.LabInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    """`explain --live` predicts over the running lab's pods, by their real names."""
    code = cli.main(
        [
            "lab",
            "explain",
            "--live",
            "--state-dir",
            str(lab001.state_dir),
            "--cluster",
            "cluster1",
            "--client",
            "client-in-ambient",
            "--json",
        ]
    )
    endpoints = json.loads(capsys.readouterr().out)["endpoints"]
    assert code == 0
    assert {e["pod"] for e in endpoints} == in_ambient_pods(
        lab001, "cluster1"
    ) | in_ambient_pods(lab001, "cluster2")
