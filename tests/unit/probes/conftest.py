"""A tiny loopback HTTP server that answers like pods do, and fails like meshes do."""

import collections
import http.server
import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class PodServer:
    """Handle on the running server: its base URL and what it saw."""

    url: str
    hits: collections.Counter[str] = field(default_factory=collections.Counter)
    connections: set[int] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rotation: int = 0


def _handler(state: PodServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet."""

        def reply(
            self, body: bytes, status: int = 200, ctype: str = "text/plain"
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            head, _, rest = path.strip("/").partition("/")
            with state.lock:
                state.hits[head] += 1
                state.connections.add(self.client_address[1])
                state.rotation += 1
                turn = state.rotation
            if head == "hostname":
                self.reply(rest.encode())
            elif head == "hello":
                body = f"Hello, world!\nVersion: 1.0.0\nHostname: {rest}\n"
                self.reply(body.encode())
            elif head == "json":
                self.reply(
                    json.dumps({"hostname": rest}).encode(), ctype="application/json"
                )
            elif head == "rotate":
                self.reply(b"pod-a\n" if turn % 2 else b"pod-b\n")
            elif head == "status":
                self.reply(b"no healthy upstream", status=int(rest))
            elif head == "host":
                self.reply(self.headers.get("Host", "").encode())
            elif head == "garbage":
                self.reply(b"<html><body>upstream connect error</body></html>")
            elif head == "frame":  # a body that imitates the exec sampler's framing
                self.reply(b"MDS 1 200 0 706f642d78\nMDS-END 1\n")
            elif head == "big":
                self.reply(b"a" * 70_000)
            elif head == "slow":
                state.release.wait(timeout=30)
                self.reply(b"late-pod")
            elif head == "close":  # close without answering: curl exit 52
                self.close_connection = True
            elif head == "reset":  # RST without answering: curl exit 56
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
            else:
                self.reply(b"not found", status=404)

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hang up on slow answers on purpose: not worth a traceback."""


@pytest.fixture
def pod_server() -> Iterator[PodServer]:
    """A loopback server on an ephemeral port (see the paths in ``do_GET``)."""
    state = PodServer(url="")
    server = _Server(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL whose port is bound but not listening: connections are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hostname/nobody"
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback only: no proxy from the environment may get in the way."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
