"""`pods/{name}/exec` over websocket (v4/v5.channel.k8s.io): the command runs for real.

The lab's client pods are not containers: their "exec" runs the argv as a subprocess on
this machine, with `http_proxy` pointing at the client's mesh proxy, so the guides'
`kubectl exec deploy/client-in-ambient -- curl -s host:8000/hostname` works unchanged.

Wire protocol (apimachinery `wsstream`, client-go `remotecommand`, the `kubernetes`
client's `stream/ws_client.py`): every binary message starts with its channel byte,
0 stdin, 1 stdout, 2 stderr, 3 error (a `Status` as JSON), 4 resize; v5 adds the
frame `[255, channel]` that closes one direction (the client's `[255, 0]` is stdin EOF).
After the command ends the server sends the Status on channel 3 and closes.
"""

import asyncio
import contextlib
import json
import logging
import os
import signal
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger("meshdrill.lab.exec")

V4 = "v4.channel.k8s.io"
V5 = "v5.channel.k8s.io"
PROTOCOLS = (V5, V4)  # preferred first, whatever order the client lists them in

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_TIMEOUT = 120.0
_CHUNK = 64 * 1024
_TRUE = frozenset({"1", "t", "true"})  # strconv.ParseBool, case-insensitive
_FALSE = frozenset({"0", "f", "false"})

EXEC_PATH = "/api/v1/namespaces/{namespace}/pods/{name}/exec"


@dataclass(frozen=True)
class ExecTarget:
    """A pod exec may run in: its name, containers and mesh proxy."""

    namespace: str
    pod: str
    containers: tuple[str, ...] = ()
    proxy_url: str | None = None  # http://127.0.0.1:PORT, the client's mesh proxy
    env: Mapping[str, str] = field(default_factory=dict)


class ExecRefused(Exception):
    """Exec cannot run: answered as a Kubernetes `Status` with this HTTP code."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def not_found(namespace: str, pod: str) -> ExecRefused:
    """The 404 the API gives for a pod that does not exist."""
    return ExecRefused(
        404, "NotFound", f'pods "{pod}" not found in namespace {namespace}'
    )


def forbidden(namespace: str, pod: str, why: str) -> ExecRefused:
    """The 403 for a pod that exists but is not an exec-able client."""
    return ExecRefused(403, "Forbidden", f'pods "{pod}" is forbidden: {why}')


# Resolve (namespace, pod name) to a target, or raise ExecRefused (404/403).
ExecResolver = Callable[[str, str], ExecTarget | Awaitable[ExecTarget]]


def status_body(code: int, reason: str, message: str, pod: str) -> dict[str, Any]:
    """A `v1.Status` failure as the API server writes it."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {"name": pod, "kind": "pods"},
        "code": code,
    }


def exit_status(code: int, argv: list[str]) -> dict[str, Any]:
    """The channel-3 Status for a finished command (what `returncode` decodes)."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"{_argv_text(argv)}, exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _argv_text(argv: list[str]) -> str:
    return "[" + " ".join(argv) + "]"


def choose_protocol(header: str | None) -> str | None:
    """The subprotocol to answer with: v5 if offered, else v4, else None."""
    offered = {p.strip() for p in (header or "").split(",") if p.strip()}
    return next((p for p in PROTOCOLS if p in offered), None)


@dataclass(frozen=True)
class ExecOptions:
    """The query parameters of an exec request (`PodExecOptions`)."""

    command: list[str]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    container: str | None


def _flag(query: Mapping[str, str], name: str, pod: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ExecRefused(
        400, "BadRequest", f"exec into pod {pod}: {name}={raw!r} is not a bool"
    )


def parse_options(request: web.Request, target: ExecTarget) -> ExecOptions:
    """Read and check the exec query; ExecRefused(400) names what is wrong."""
    query = request.rel_url.query
    pod = target.pod
    command = list(query.getall("command", []))
    if not command or not command[0]:
        raise ExecRefused(
            400,
            "BadRequest",
            f"exec into pod {pod}: you must specify at least one command",
        )
    opts = ExecOptions(
        command=command,
        stdin=_flag(query, "stdin", pod),
        stdout=_flag(query, "stdout", pod),
        stderr=_flag(query, "stderr", pod),
        tty=_flag(query, "tty", pod),
        container=query.get("container") or None,
    )
    if not (opts.stdin or opts.stdout or opts.stderr):
        raise ExecRefused(
            400,
            "BadRequest",
            f"exec into pod {pod}: "
            "you must specify at least 1 of stdin, stdout, stderr",
        )
    if opts.tty and opts.stderr:
        raise ExecRefused(
            400,
            "BadRequest",
            f"exec into pod {pod}: tty and stderr cannot both be true",
        )
    if opts.container and target.containers and opts.container not in target.containers:
        raise ExecRefused(
            400,
            "BadRequest",
            f"container {opts.container} is not valid for pod {pod}",
        )
    return opts


def command_env(target: ExecTarget, tty: bool) -> dict[str, str]:
    """The environment the command sees: clean PATH, pod HOSTNAME, the mesh proxy."""
    env = {"PATH": CLEAN_PATH, "HOSTNAME": target.pod, "LANG": "C.UTF-8"}
    if target.proxy_url:
        env["http_proxy"] = target.proxy_url
        env["HTTP_PROXY"] = target.proxy_url
    if tty:
        env["TERM"] = "xterm"
    env.update(target.env)
    for name in ("no_proxy", "NO_PROXY"):
        env.pop(name, None)
    return env


async def serve_exec(
    request: web.Request,
    namespace: str,
    name: str,
    resolve: ExecResolver,
    timeout: float = DEFAULT_TIMEOUT,
) -> web.StreamResponse:
    """Answer one exec request for pod `namespace/name`: a Status, or the session."""
    try:
        resolved = resolve(namespace, name)
        target = await resolved if isinstance(resolved, Awaitable) else resolved
        opts = parse_options(request, target)
        protocol = _check_upgrade(request, name)
    except ExecRefused as exc:
        body = status_body(exc.code, exc.reason, exc.message, name)
        return web.json_response(body, status=exc.code)
    ws = web.WebSocketResponse(protocols=(protocol,), autoping=True, compress=False)
    await ws.prepare(request)
    await _Session(ws, protocol, target, opts, timeout).run()
    return ws


def exec_handler(
    resolve: ExecResolver, *, timeout: float = DEFAULT_TIMEOUT
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler for `EXEC_PATH` (route it for GET and POST)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        info = request.match_info
        return await serve_exec(
            request, info["namespace"], info["name"], resolve, timeout
        )

    return handle


def add_exec_routes(router: web.UrlDispatcher, handler: Any) -> None:
    """Route the exec path for GET (websocket) and POST (what SPDY clients send)."""
    router.add_route("GET", EXEC_PATH, handler)
    router.add_route("POST", EXEC_PATH, handler)


def _check_upgrade(request: web.Request, pod: str) -> str:
    upgrade = request.headers.get("Upgrade", "").lower()
    if upgrade != "websocket":
        hint = " (SPDY is not spoken here)" if upgrade.startswith("spdy") else ""
        raise ExecRefused(
            400,
            "BadRequest",
            f"exec into pod {pod}: upgrade request required: websocket with "
            f"{V5} or {V4}{hint}",
        )
    protocol = choose_protocol(request.headers.get("Sec-WebSocket-Protocol"))
    if protocol is None:
        raise ExecRefused(
            400,
            "BadRequest",
            f"exec into pod {pod}: websocket subprotocol must be {V5} or {V4}",
        )
    return protocol


class _Session:
    """One exec: the subprocess, its pipes and the websocket between them."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        protocol: str,
        target: ExecTarget,
        opts: ExecOptions,
        timeout: float,
    ) -> None:
        self.ws = ws
        self.protocol = protocol
        self.target = target
        self.opts = opts
        self.timeout = timeout
        self.send_lock = asyncio.Lock()
        self.proc: asyncio.subprocess.Process | None = None

    async def send(self, channel: int, data: bytes) -> None:
        async with self.send_lock:
            if not self.ws.closed:
                await self.ws.send_bytes(bytes([channel]) + data)

    async def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="meshdrill-exec-") as cwd:
            try:
                status = await self._run_in(cwd)
            except Exception:  # the status channel must say something
                log.exception("exec in pod %s failed", self.target.pod)
                status = exit_status(126, self.opts.command)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.send(ERROR, json.dumps(status).encode())
            await self.ws.close()

    async def _run_in(self, cwd: str) -> dict[str, Any]:
        opts = self.opts
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *opts.command,
                stdin=asyncio.subprocess.PIPE
                if opts.stdin
                else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT
                if opts.tty
                else asyncio.subprocess.PIPE,
                env=command_env(self.target, opts.tty),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:  # not found, not executable: like a shell, 127/126
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            text = f'exec: "{opts.command[0]}": {exc.strerror or exc}\n'
            if opts.stderr or opts.tty:
                await self.send(STDOUT if opts.tty else STDERR, text.encode())
            return exit_status(code, opts.command)
        proc = self.proc
        pumps = [self._pump(proc.stdout, STDOUT, opts.stdout or opts.tty)]
        if proc.stderr is not None:
            pumps.append(self._pump(proc.stderr, STDERR, opts.stderr))
        reader = asyncio.ensure_future(self._read_client())
        try:
            async with asyncio.timeout(self.timeout):
                await asyncio.gather(*pumps)
                code = await proc.wait()
        except TimeoutError:
            self._kill()
            await proc.wait()
            msg = f"lab exec timeout: killed after {self.timeout:g}s\n"
            await self.send(STDOUT if opts.tty else STDERR, msg.encode())
            return exit_status(137, opts.command)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            self._kill()
        if code < 0:  # killed by a signal: report it the way a shell does
            code = 128 - code
        return exit_status(code, opts.command)

    async def _pump(
        self, stream: asyncio.StreamReader | None, channel: int, forward: bool
    ) -> None:
        if stream is None:
            return
        while chunk := await stream.read(_CHUNK):
            if forward:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.send(channel, chunk)

    async def _read_client(self) -> None:
        """Feed stdin from channel 0; v5 `[255, 0]` closes it; a gone client kills."""
        stdin = self.proc.stdin if self.proc is not None else None
        async for msg in self.ws:
            if msg.type == WSMsgType.BINARY:
                data: bytes = msg.data
            elif msg.type == WSMsgType.TEXT:
                data = msg.data.encode()
            else:
                break
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel == STDIN and stdin is not None and payload:
                with contextlib.suppress(ConnectionError):
                    stdin.write(payload)
                    await stdin.drain()
            elif (
                channel == CLOSE
                and self.protocol == V5
                and payload[:1] == b"\x00"
                and stdin is not None
            ):
                stdin.close()
                stdin = None
        # The client went away: nobody reads the output any more.
        if self.ws.closed:
            self._kill()

    def _kill(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
