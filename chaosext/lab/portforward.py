"""`pods/{name}/portforward`: `kubectl port-forward`, as Kubernetes 1.31+ serves it.

kubectl opens a websocket with the subprotocol `SPDY/3.1+portforward.k8s.io` and
speaks SPDY/3.1 inside it (the websocket's binary messages carry the SPDY byte
stream). For each local connection it opens two SPDY streams with the headers
`streamType` (`error`, then `data`), `port` and `requestID`; the server answers
each SYN_STREAM with a SYN_REPLY, pipes the data stream to the pod's port, and
writes a failure on the error stream. When either side is done, both streams
are closed (a DATA frame with FIN). PING frames are echoed; SPDY's flow control
is not used by kubectl and not by the lab.

The lab's pods serve on one port: a port the pod declares (`containerPort`)
reaches the pod's server; any other port is refused, as a pod with nothing
listening there refuses it.
"""

import asyncio
import contextlib
import logging
import struct
import zlib
from typing import Any

from aiohttp import WSMsgType, web

from chaosext.lab import kinds, rest
from chaosext.lab.errors import ApiError
from chaosext.lab.objects import ADDRESS_ANNOTATION

log = logging.getLogger("meshdrill.lab.portforward")

PROTOCOL = "SPDY/3.1+portforward.k8s.io"
SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY = 1, 2, 3, 6, 7
FIN = 0x01

# The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1):
# length-prefixed header names, then status codes, reasons, dates and values.
_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding "
    "accept-language accept-ranges age allow authorization cache-control "
    "connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect "
    "expires from host if-match if-modified-since if-none-match if-range "
    "if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te "
    "trailer transfer-encoding upgrade user-agent vary via warning "
    "www-authenticate method get status |200 OK| version HTTP/1.1 url public "
    "set-cookie keep-alive origin"
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415"
    "416417502504505203 Non-Authoritative Information204 No Content301 Moved "
    "Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 "
    "Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr "
    "May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, "
    "GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,"
    "application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    words = _WORDS.replace("|200 OK|", "200_OK").split()
    out = b""
    for word in words:
        raw = word.replace("200_OK", "200 OK").encode()
        out += struct.pack(">I", len(raw)) + raw
    return out + _TAIL.encode()


DICTIONARY = _dictionary()


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHI", 0x8003, kind, (flags << 24) | len(payload)) + payload


def _data(stream: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">II", stream & 0x7FFFFFFF, (flags << 24) | len(payload)) + (
        payload
    )


def _headers(block: bytes) -> dict[str, str]:
    (count,) = struct.unpack_from(">I", block)
    pos, out = 4, {}
    for _ in range(count):
        (size,) = struct.unpack_from(">I", block, pos)
        name = block[pos + 4 : pos + 4 + size].decode()
        pos += 4 + size
        (size,) = struct.unpack_from(">I", block, pos)
        out[name.lower()] = block[pos + 4 : pos + 4 + size].decode()
        pos += 4 + size
    return out


class Session:
    """One port-forward websocket: SPDY frames in, streams piped to the pod."""

    def __init__(self, ws: web.WebSocketResponse, pod: dict[str, Any]) -> None:
        self.ws = ws
        self.pod = pod
        self.buffer = b""
        self.inflate = zlib.decompressobj(zdict=DICTIONARY)
        self.deflate = zlib.compressobj(9, zdict=DICTIONARY)
        self.errors: dict[str, int] = {}  # requestID -> error stream
        self.writers: dict[int, asyncio.StreamWriter] = {}
        self.early: dict[int, list[tuple[int, bytes]]] = {}
        """Data that came while the stream's connection to the pod was opening."""
        self.tasks: set[asyncio.Task[None]] = set()
        self.lock = asyncio.Lock()

    async def send(self, frame: bytes) -> None:
        async with self.lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(frame)

    async def run(self) -> None:
        try:
            async for message in self.ws:
                if message.type != WSMsgType.BINARY:
                    continue
                self.buffer += message.data
                while await self._frame():
                    pass
        finally:
            for task in list(self.tasks):
                task.cancel()
            for writer in self.writers.values():
                writer.close()

    async def _frame(self) -> bool:
        if len(self.buffer) < 8:
            return False
        first, second = struct.unpack_from(">II", self.buffer)
        length = second & 0xFFFFFF
        if len(self.buffer) < 8 + length:
            return False
        flags, payload = second >> 24, self.buffer[8 : 8 + length]
        self.buffer = self.buffer[8 + length :]
        if first & 0x80000000:
            await self._on_control(first & 0xFFFF, payload)
        else:
            await self._on_data(first & 0x7FFFFFFF, flags, payload)
        return True

    async def _on_control(self, kind: int, payload: bytes) -> None:
        if kind == SYN_STREAM:
            (stream,) = struct.unpack_from(">I", payload)
            block = self.inflate.decompress(payload[10:])
            await self._on_stream(stream & 0x7FFFFFFF, _headers(block))
        elif kind == PING:
            await self.send(_control(PING, 0, payload))
        elif kind == GOAWAY:
            await self.ws.close()

    async def _on_stream(self, stream: int, headers: dict[str, str]) -> None:
        empty = self.deflate.compress(struct.pack(">I", 0))
        empty += self.deflate.flush(zlib.Z_SYNC_FLUSH)
        await self.send(_control(SYN_REPLY, 0, struct.pack(">I", stream) + empty))
        request = headers.get("requestid", "")
        if headers.get("streamtype") == "error":
            self.errors[request] = stream
            return
        self.early[stream] = []
        task = asyncio.create_task(self._pipe(stream, request, headers.get("port", "")))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _pipe(self, stream: int, request: str, port: str) -> None:
        error = self.errors.pop(request, None)
        address = self._address(port)
        try:
            if address is None:
                raise ConnectionRefusedError("connection refused")
            host, _, number = address.rpartition(":")
            reader, writer = await asyncio.open_connection(host, int(number))
        except OSError as exc:
            message = (
                f"error forwarding port {port} to pod {self.pod['metadata']['name']}: "
                f"failed to connect to localhost:{port} inside the pod: {exc}"
            )
            if error is not None:
                await self.send(_data(error, 0, message.encode()))
            self.early.pop(stream, None)
            await self._close(stream, error)
            return
        self.writers[stream] = writer
        for flags, payload in self.early.pop(stream, []):
            await self._on_data(stream, flags, payload)
        try:
            while chunk := await reader.read(65536):
                await self.send(_data(stream, 0, chunk))
        except OSError:
            pass
        finally:
            writer.close()
            self.writers.pop(stream, None)
            await self._close(stream, error)

    async def _close(self, stream: int, error: int | None) -> None:
        await self.send(_data(stream, FIN, b""))
        if error is not None:
            await self.send(_data(error, FIN, b""))

    async def _on_data(self, stream: int, flags: int, payload: bytes) -> None:
        writer = self.writers.get(stream)
        if writer is None:
            if stream in self.early:
                self.early[stream].append((flags, payload))
            return
        if payload:
            writer.write(payload)
            with contextlib.suppress(OSError):
                await writer.drain()
        if flags & FIN and writer.can_write_eof():
            writer.write_eof()

    def _address(self, port: str) -> str | None:
        declared = {
            str(p.get("containerPort"))
            for c in self.pod["spec"].get("containers") or []
            for p in c.get("ports") or []
        }
        annotations = self.pod["metadata"].get("annotations") or {}
        return annotations.get(ADDRESS_ANNOTATION) if port in declared else None


async def serve(request: web.Request, call: rest.Call) -> web.StreamResponse:
    """The `pods/portforward` subresource handler."""
    assert call.name is not None
    pod = call.store.get(kinds.POD, call.namespace or "", call.name)
    if (pod.get("status") or {}).get("phase") != "Running":
        raise ApiError.bad_request(
            f"pod {call.name} is not running and cannot be port-forwarded"
        )
    ws = web.WebSocketResponse(protocols=(PROTOCOL,), heartbeat=None)
    if not ws.can_prepare(request).ok:
        raise ApiError.bad_request(
            "port-forward needs a websocket upgrade with the subprotocol "
            f"{PROTOCOL} (kubectl 1.31 or later); the lab does not speak plain SPDY"
        )
    await ws.prepare(request)
    await Session(ws, pod).run()
    return ws
