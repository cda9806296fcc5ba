"""`?watch=true`: a stream of `{"type": ..., "object": ...}` lines, one per change.

A watch from resourceVersion "" or "0" starts with ADDED for what exists; from a
later resourceVersion it replays the store's history (410 Expired when too old).
Objects that stop matching the selectors are sent as DELETED, as Kubernetes does.
"""

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from chaosext.lab import rest, selectors, store, tables
from chaosext.lab.errors import ApiError
from chaosext.lab.pacing import Pacer

DEFAULT_TIMEOUT = 1800.0


class Filter:
    def __init__(self, call: rest.Call, request: web.Request) -> None:
        self.call = call
        self.labels = selectors.parse_labels(request.query.get("labelSelector"))
        self.fields = selectors.parse_fields(
            call.field_selector(request), call.kind.plural
        )

    def matches(self, obj: store.Obj | None) -> bool:
        if obj is None:
            return False
        namespace = self.call.namespace
        if namespace is not None and obj["metadata"].get("namespace") != namespace:
            return False
        if self.call.name is not None and obj["metadata"]["name"] != self.call.name:
            return False
        return store.matches(obj, self.labels, self.fields)

    def translate(self, event: store.Event) -> tuple[str, store.Obj] | None:
        """The event as this watcher sees it, or None if it does not concern it."""
        if event.kind.key != self.call.kind.key:
            return None
        now, before = self.matches(event.object), self.matches(event.old)
        if event.type == "DELETED":
            return ("DELETED", event.object) if before else None
        if now and before:
            return ("MODIFIED", event.object)
        if now:
            return ("ADDED", event.object)
        if before:
            return ("DELETED", event.object)
        return None


class Lines:
    """Watch events as JSON lines: objects, or one-row Tables (`as=Table`), with
    the column definitions on the first event only, as the API server sends them."""

    def __init__(self, call: rest.Call, request: web.Request) -> None:
        self.call = call
        self.table = rest.wants_table(request)
        self.include = request.query.get("includeObject", "Metadata")
        self.first = True

    def __call__(self, type_: str, obj: Any) -> bytes:
        call = self.call
        if type_ != "ERROR":
            obj = json.loads(json.dumps(obj))
            if self.table:
                rv = obj["metadata"].get("resourceVersion", "")
                obj = tables.table(call.kind, [obj], rv, self.include, call.render)
                if not self.first:
                    del obj["columnDefinitions"]
                self.first = False
            else:
                obj = call.render(obj)
        return json.dumps({"type": type_, "object": obj}).encode() + b"\n"


async def serve(
    request: web.Request, call: rest.Call, closing: asyncio.Event
) -> web.StreamResponse:
    """Stream events until the timeout, the client leaves, or the server stops."""
    filt = Filter(call, request)
    line = Lines(call, request)
    timeout = float(request.query.get("timeoutSeconds", DEFAULT_TIMEOUT))
    since = request.query.get("resourceVersion", "")
    backlog: list[store.Event] | None = []
    if since not in ("", "0"):
        try:
            backlog = call.store.events_since(int(since))
        except ValueError as exc:
            raise ApiError.bad_request(f"invalid resourceVersion {since!r}") from exc
    queue: asyncio.Queue[store.Event] = asyncio.Queue()
    unsubscribe = call.store.subscribe(queue.put_nowait)
    response = web.StreamResponse(headers={"Content-Type": rest.JSON})
    try:
        await response.prepare(request)
        if backlog is None:
            expired = ApiError(410, f"too old resource version: {since}", "Expired")
            await response.write(line("ERROR", expired.status()))
            return response
        if since in ("", "0"):
            pacer = Pacer()  # 2,000 pods' ADDED events: not in one go
            for obj in list(call.store.objects(call.kind, call.namespace)):
                if filt.matches(obj):
                    await response.write(line("ADDED", obj))
                await pacer.turn()
        for event in backlog:
            seen = filt.translate(event)
            if seen:
                await response.write(line(*seen))
        await _pump(response, line, filt, queue, closing, timeout)
    except ConnectionError:
        pass  # the client went away
    finally:
        unsubscribe()
    return response


async def _pump(
    response: web.StreamResponse,
    line: Lines,
    filt: Filter,
    queue: asyncio.Queue[store.Event],
    closing: asyncio.Event,
    timeout: float,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    closed = asyncio.ensure_future(closing.wait())
    try:
        while not closing.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                {getter, closed}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                continue
            seen = filt.translate(getter.result())
            if seen:
                await response.write(line(*seen))
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
