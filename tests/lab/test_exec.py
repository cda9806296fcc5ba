"""Exec over websocket (v4/v5.channel.k8s.io) against a minimal API server of our own.

The server here is just enough Kubernetes for `kubectl exec` (discovery, GET pod) plus
the lab's exec handler; the client pod's "mesh proxy" is a tiny HTTP server that says
which absolute URL it was asked for, so the tests see that `http_proxy` is honoured.
"""

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

from chaosext.lab import exec as labexec
from tests.labfixtures import wait_for

NS = "demo"
CLIENT = "client-a"
BACKEND = "backend-0"
KUBECTL = "kubectl"


class LoopThread:
    """aiohttp apps served from one event loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def serve(self, app: web.Application) -> int:
        async def start() -> int:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.runners.append(runner)
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            port: int = server.sockets[0].getsockname()[1]
            return port

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            for runner in self.runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def proxy_app() -> web.Application:
    """Answers every request with the URL it was asked for (absolute when proxied)."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=f"proxied {request.method} {request.url}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def pod_json(name: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}"},
        "spec": {"containers": [{"name": "main", "image": "lab"}], "nodeName": "n1"},
        "status": {"phase": "Running"},
    }


def api_app(proxy_url: str, timeout: float = 30.0) -> web.Application:
    """Discovery, GET pod, and the exec handler: enough for kubectl and stream()."""

    def resolve(namespace: str, name: str) -> labexec.ExecTarget:
        if namespace != NS or name not in (CLIENT, BACKEND):
            raise labexec.not_found(namespace, name)
        if name != CLIENT:
            raise labexec.forbidden(namespace, name, "not a client pod of the topology")
        return labexec.ExecTarget(NS, name, ("main",), proxy_url)

    async def version(_: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "32", "gitVersion": "v1.32.0"})

    async def api(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [],
            }
        )

    async def apis(_: web.Request) -> web.Response:
        return web.json_response(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        )

    async def api_v1(_: web.Request) -> web.Response:
        pods: dict[str, Any] = {"name": "pods", "singularName": "pod"}
        pods |= {"namespaced": True, "kind": "Pod", "verbs": ["get", "list"]}
        execs: dict[str, Any] = {"name": "pods/exec", "singularName": ""}
        execs |= {"namespaced": True, "kind": "PodExecOptions", "verbs": ["create"]}
        return web.json_response(
            {
                "kind": "APIResourceList",
                "groupVersion": "v1",
                "resources": [pods, execs],
            }
        )

    async def get_pod(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.match_info["namespace"] != NS or name not in (CLIENT, BACKEND):
            body = labexec.status_body(
                404, "NotFound", f'pods "{name}" not found', name
            )
            return web.json_response(body, status=404)
        return web.json_response(pod_json(name))

    app = web.Application()
    app.router.add_get("/version", version)
    app.router.add_get("/api", api)
    app.router.add_get("/apis", apis)
    app.router.add_get("/api/v1", api_v1)
    app.router.add_get("/api/v1/namespaces/{namespace}/pods/{name}", get_pod)
    labexec.add_exec_routes(app.router, labexec.exec_handler(resolve, timeout=timeout))
    return app


class Server:
    def __init__(self, base: str, proxy_url: str, kubeconfig: Path) -> None:
        self.base = base
        self.proxy_url = proxy_url
        self.kubeconfig = kubeconfig

    def api(self) -> k8s.CoreV1Api:
        config = k8s.Configuration(host=self.base)
        return k8s.CoreV1Api(k8s.ApiClient(config))

    def kubectl(
        self, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.endswith("_proxy")}
        env["KUBECONFIG"] = str(self.kubeconfig)
        return subprocess.run(
            [KUBECTL, "--request-timeout=20s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )


def write_kubeconfig(path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "t", "cluster": {"server": server}}],
        "users": [{"name": "t", "user": {"token": "t"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
        "current-context": "t",
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def server(loop_thread: LoopThread, tmp_path_factory: pytest.TempPathFactory) -> Server:
    proxy_url = f"http://127.0.0.1:{loop_thread.serve(proxy_app())}"
    base = f"http://127.0.0.1:{loop_thread.serve(api_app(proxy_url))}"
    kubeconfig = write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", base)
    return Server(base, proxy_url, kubeconfig)


def run_stream(server: Server, command: list[str], **kwargs: Any) -> Any:
    kwargs.setdefault("stderr", True)
    kwargs.setdefault("stdin", False)
    kwargs.setdefault("stdout", True)
    kwargs.setdefault("tty", False)
    api = server.api()
    return stream(
        api.connect_get_namespaced_pod_exec, CLIENT, NS, command=command, **kwargs
    )


# -- pure pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        ("v5.channel.k8s.io, v4.channel.k8s.io", labexec.V5),
        ("v4.channel.k8s.io,v5.channel.k8s.io", labexec.V5),
        ("v4.channel.k8s.io", labexec.V4),
        ("v3.channel.k8s.io,base64.channel.k8s.io", None),
        (None, None),
    ],
)
def test_protocol_prefers_v5(offered: str | None, chosen: str | None) -> None:
    """v5 is chosen whenever offered, in any order; else v4; else none."""
    assert labexec.choose_protocol(offered) == chosen


def test_exit_status_carries_code_where_clients_read_it() -> None:
    """A non-zero exit is a NonZeroExitCode Status whose first cause holds the code."""
    status = labexec.exit_status(3, ["sh", "-c", "exit 3"])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]
    assert status["message"].startswith("command terminated with non-zero exit code: ")
    assert labexec.exit_status(0, ["true"]) == {"metadata": {}, "status": "Success"}


def test_env_is_clean_and_points_at_the_proxy() -> None:
    """The command sees a clean PATH, HOSTNAME, both proxy spellings, no no_proxy."""
    target = labexec.ExecTarget(NS, CLIENT, (), "http://127.0.0.1:9", {"no_proxy": "*"})
    env = labexec.command_env(target, tty=False)
    assert env["PATH"] == labexec.CLEAN_PATH
    assert env["HOSTNAME"] == CLIENT
    assert env["http_proxy"] == env["HTTP_PROXY"] == "http://127.0.0.1:9"
    assert "no_proxy" not in env
    assert "NO_PROXY" not in env


# -- the kubernetes client's stream() ------------------------------------------------


def test_stream_returns_stdout(server: Server) -> None:
    """stream() (v5 by default) returns what the command printed."""
    assert run_stream(server, ["echo", "hello", "world"]) == "hello world\n"


def test_stream_v4_only_client(server: Server) -> None:
    """A client offering only v4 gets v4 echoed and the same output."""
    ws = run_stream(
        server,
        ["echo", "v4"],
        _preload_content=False,
        _headers={"sec-websocket-protocol": labexec.V4},
    )
    ws.run_forever(timeout=20)
    assert ws.subprotocol == labexec.V4
    assert ws.read_stdout() == "v4\n"
    assert ws.returncode == 0


def test_stream_negotiates_v5(server: Server) -> None:
    """The default client (v5, v4) is answered with v5."""
    ws = run_stream(server, ["true"], _preload_content=False)
    ws.run_forever(timeout=20)
    assert ws.subprotocol == labexec.V5
    assert ws.returncode == 0


@pytest.mark.parametrize("protocol", [labexec.V4, labexec.V5])
def test_stream_returncode_non_zero(server: Server, protocol: str) -> None:
    """A non-zero exit reaches `returncode` through the channel-3 Status."""
    ws = run_stream(
        server,
        ["sh", "-c", "echo out; echo err >&2; exit 3"],
        _preload_content=False,
        _headers={"sec-websocket-protocol": protocol},
    )
    ws.run_forever(timeout=20)
    assert ws.returncode == 3
    assert ws.read_stdout() == "out\n"
    assert ws.read_stderr() == "err\n"


def test_stream_command_sees_pod_env(server: Server) -> None:
    """The command runs with HOSTNAME = pod and http_proxy = the client's proxy."""
    out = run_stream(
        server, ["sh", "-c", 'echo "$HOSTNAME $http_proxy ${no_proxy-unset}"']
    )
    assert out == f"{CLIENT} {server.proxy_url} unset\n"


def test_stream_curl_goes_through_the_proxy(server: Server) -> None:
    """curl in the pod sends its request to the client's mesh proxy (absolute URI)."""
    out = run_stream(
        server, ["curl", "-s", "in-ambient.httpbin.mesh.internal:8000/hostname"]
    )
    assert out == "proxied GET http://in-ambient.httpbin.mesh.internal:8000/hostname"


def test_stream_stdin_closed_by_v5_close_frame(server: Server) -> None:
    """Under v5, stdin data on channel 0 then `[255, 0]` gives the command EOF."""
    ws = run_stream(server, ["cat"], stdin=True, _preload_content=False)
    ws.write_stdin("piped text\n")
    ws.close_channel(0)
    ws.run_forever(timeout=20)
    assert ws.read_stdout() == "piped text\n"
    assert ws.returncode == 0


def test_stream_missing_executable_is_127(server: Server) -> None:
    """A command that does not exist ends with exit code 127 and says so on stderr."""
    ws = run_stream(server, ["no-such-command-xyz"], _preload_content=False)
    ws.run_forever(timeout=20)
    assert ws.returncode == 127
    assert "no-such-command-xyz" in ws.read_stderr()


@pytest.mark.parametrize(("pod", "code"), [(BACKEND, 403), ("ghost", 404)])
def test_stream_refused_pods(server: Server, pod: str, code: int) -> None:
    """Exec into a non-client pod (403) or a missing pod (404) fails naming the pod."""
    api = server.api()
    with pytest.raises(ApiException) as info:
        stream(
            api.connect_get_namespaced_pod_exec, pod, NS, command=["true"], stdout=True
        )
    assert str(code) in str(info.value.reason)
    assert pod in str(info.value.reason)


# -- plain HTTP before the upgrade ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("stdout=true", 400, "at least one command"),
        ("command=true", 400, "at least 1 of stdin, stdout, stderr"),
        ("command=true&stdout=true&container=nope", 400, "container nope"),
        ("command=true&stdout=true", 400, "upgrade request required"),
    ],
)
def test_bad_requests_get_a_status(
    server: Server, query: str, code: int, words: str
) -> None:
    """Bad exec requests get a JSON Status with the right code, naming the pod."""
    url = f"{server.base}/api/v1/namespaces/{NS}/pods/{CLIENT}/exec?{query}"
    resp = requests.post(url, timeout=10)
    body = resp.json()
    assert resp.status_code == code
    assert body["kind"] == "Status"
    assert body["code"] == code
    assert words in body["message"]
    assert CLIENT in body["message"]


def test_forbidden_pod_gets_403_status(server: Server) -> None:
    """A pod that is not a declared client gets a 403 JSON Status before upgrade."""
    url = f"{server.base}/api/v1/namespaces/{NS}/pods/{BACKEND}/exec?command=true"
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 403
    assert resp.json()["reason"] == "Forbidden"
    assert BACKEND in resp.json()["message"]


# -- kubectl -------------------------------------------------------------------------


def test_kubectl_exec_prints_output(server: Server) -> None:
    """`kubectl exec` (websocket v5) prints the command's stdout and exits 0."""
    done = server.kubectl(
        "exec", "-n", NS, CLIENT, "--", "sh", "-c", "echo hi from $HOSTNAME"
    )
    assert done.stdout == f"hi from {CLIENT}\n", done.stderr
    assert done.returncode == 0


def test_kubectl_exec_exit_code(server: Server) -> None:
    """`kubectl exec` exits with the command's exit code."""
    done = server.kubectl("exec", "-n", NS, CLIENT, "--", "sh", "-c", "exit 3")
    assert done.returncode == 3, done.stderr
    assert "exit code 3" in done.stderr


def test_kubectl_exec_stdin(server: Server) -> None:
    """`kubectl exec -i` feeds stdin and closes it at EOF (v5 close frame)."""
    done = server.kubectl(
        "exec", "-i", "-n", NS, CLIENT, "--", "wc", "-l", stdin="a\nb\nc\n"
    )
    assert done.stdout.strip() == "3", done.stderr


def test_kubectl_exec_curl_loop(server: Server) -> None:
    """The guides' `sh -c "for ...; do curl ...; done"` loop goes through the proxy."""
    loop = "for i in $(seq 1 3); do curl -s h.mesh.internal:8000/hostname; echo; done"
    done = server.kubectl("exec", "-n", NS, CLIENT, "--", "sh", "-c", loop)
    lines = done.stdout.splitlines()
    assert lines == ["proxied GET http://h.mesh.internal:8000/hostname"] * 3, (
        done.stderr
    )


def test_kubectl_exec_refused_for_non_client(server: Server) -> None:
    """`kubectl exec` into a pod that is not a client fails with the 403 message."""
    done = server.kubectl("exec", "-n", NS, BACKEND, "--", "true")
    assert done.returncode != 0
    assert BACKEND in done.stderr
    assert "forbidden" in done.stderr


# -- the timeout ---------------------------------------------------------------------


@pytest.fixture
def short_timeout_base(loop_thread: LoopThread) -> str:
    return f"http://127.0.0.1:{loop_thread.serve(api_app('', timeout=0.5))}"


def test_timeout_kills_the_command(short_timeout_base: str) -> None:
    """A command outliving the exec timeout is killed: exit 137, a note on stderr."""
    api = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=short_timeout_base)))
    ws = stream(
        api.connect_get_namespaced_pod_exec,
        CLIENT,
        NS,
        command=["sleep", "30"],
        stdout=True,
        stderr=True,
        _preload_content=False,
    )
    ws.run_forever(timeout=20)
    assert ws.returncode == 137
    assert "timeout" in ws.read_stderr()


def test_client_disconnect_kills_the_command(server: Server) -> None:
    """When the client goes away mid-command, the command is killed (no leftovers)."""
    ws = run_stream(
        server, ["sh", "-c", "echo $$; exec sleep 30"], _preload_content=False
    )
    pid = int(ws.readline_stdout(timeout=10))
    ws.close()
    wait_for(lambda: not _alive(pid), 10, f"pid {pid} to end")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
