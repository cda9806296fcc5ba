"""`pods/{name}/log`: a pod server's log, as the kubelet serves it through the API.

`tailLines`, `timestamps` (each line prefixed with its RFC 3339 time, taken from
the line's own `YYYY/MM/DD HH:MM:SS` stamp, else the container's start) and
`follow` (new lines streamed until the pod stops, the client leaves or the lab
stops) are honoured; `previous` answers as for a container that never restarted.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from aiohttp import web

from chaosext.lab import kinds, rest
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, Store

POLL = 0.1  # seconds between looks at a followed log


class HasLog(Protocol):
    """A pod's server, or a proxy pod's access log: what `kubectl logs` reads."""

    @property
    def log(self) -> deque[str]: ...


def _stamp(line: str, fallback: str) -> str:
    """A line's own time: a server's `YYYY/MM/DD HH:MM:SS` prefix, or an Envoy
    access line's `[YYYY-MM-DDTHH:MM:SS.mmmZ]`."""
    if line.startswith("[") and line[24:27] == "Z] ":
        try:
            when = datetime.strptime(line[1:24], "%Y-%m-%dT%H:%M:%S.%f")
        except ValueError:
            return fallback
        return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    try:
        when = datetime.strptime(line[:19], "%Y/%m/%d %H:%M:%S")
    except ValueError:
        return fallback
    return when.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def _format(lines: Sequence[str], timestamps: bool, started: str) -> bytes:
    fallback = started.replace("Z", ".000000000Z") if started else ""
    if timestamps:
        return "".join(f"{_stamp(line, fallback)} {line}\n" for line in lines).encode()
    return "".join(f"{line}\n" for line in lines).encode()


def _new_since(log: Sequence[str], last: str | None) -> list[str]:
    """Lines appended after the line object `last` (identity, not equality)."""
    lines = list(log)
    if last is None:
        return lines
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] is last:
            return lines[i + 1 :]
    return lines  # `last` rotated out: everything left is new


async def serve(
    request: web.Request,
    call: rest.Call,
    store: Store,
    server_of: Callable[[tuple[str, str]], HasLog | None],
    closing: asyncio.Event,
) -> web.StreamResponse:
    assert call.name is not None
    pod = store.get(kinds.POD, call.namespace or "", call.name)
    key = (pod["metadata"]["namespace"], call.name)
    container = request.query.get("container")
    names = [c["name"] for c in pod["spec"]["containers"]]
    if container and container not in names:
        raise ApiError.bad_request(
            f"container {container} is not valid for pod {call.name}"
        )
    if request.query.get("previous", "").lower() == "true":
        raise ApiError.bad_request(
            f'previous terminated container "{container or names[0]}" in pod '
            f'"{call.name}" not found'
        )
    timestamps = request.query.get("timestamps", "").lower() == "true"
    started = (pod.get("status") or {}).get("startTime", "")
    server = server_of(key)
    lines = list(server.log) if server is not None else []
    tail = request.query.get("tailLines")
    if tail is not None and tail.isdigit():
        lines = lines[-int(tail) :] if int(tail) else []
    if request.query.get("follow", "").lower() != "true":
        return web.Response(body=_format(lines, timestamps, started),
                            content_type="text/plain")  # fmt: skip
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    last = lines[-1] if lines else None
    with contextlib.suppress(ConnectionError):
        await response.write(_format(lines, timestamps, started))
        while not closing.is_set() and _running(store, key, pod):
            server = server_of(key)
            fresh = _new_since(server.log, last) if server is not None else []
            if fresh:
                last = fresh[-1]
                await response.write(_format(fresh, timestamps, started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing.wait(), POLL)
    return response


def _running(store: Store, key: tuple[str, str], pod: Obj) -> bool:
    now = store.peek(kinds.POD, *key)
    return now is not None and now["metadata"]["uid"] == pod["metadata"]["uid"]
