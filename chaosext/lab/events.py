"""Events: what the controllers, the scheduler and the kubelet report, and the two
APIs that serve them (core/v1 `Event` and `events.k8s.io/v1` `Event`).

Both APIs read and write the same stored objects (core/v1 shape), as the real API
server does; `to_events_v1` and `from_events_v1` convert between the shapes with
the field mapping of Kubernetes' `pkg/apis/events/v1/conversion.go`. Repeated
events are counted into one Event and similar ones combined, as client-go's event
recorder does (`record`).
"""

import time
from typing import Any

from chaosext.lab import kinds
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, Store, timestamp

KEEP = 5000
"""Events kept per cluster; the oldest go first (a real server expires them in 1 h)."""
AGGREGATE_AFTER = 10
AGGREGATE_WINDOW = 600.0
"""client-go's EventAggregator defaults: 10 similar events within 10 minutes."""
COMBINED = "(combined from similar events): "
CACHE_SIZE = 4096
"""client-go's LRU cache size (`maxLruCacheEntries`)."""

# core/v1 field -> events.k8s.io/v1 field
_RENAMED = {
    "involvedObject": "regarding",
    "message": "note",
    "related": "related",
    "reportingComponent": "reportingController",
    "reportingInstance": "reportingInstance",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
}
_SAME = ("metadata", "reason", "type", "action", "eventTime", "series")


def micro_time() -> str:
    """Now as a MicroTime (`eventTime`)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + (
        f".{int(now % 1 * 1e6):06d}Z"
    )


def reference(obj: Obj, kind: kinds.Kind) -> dict[str, Any]:
    """An ObjectReference to a stored object."""
    meta = obj["metadata"]
    ref = {
        "kind": kind.kind,
        "apiVersion": kind.api_version(),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if kind.namespaced:
        ref["namespace"] = meta.get("namespace", "default")
    return ref


def record(
    store: Store,
    obj: Obj,
    kind: kinds.Kind,
    reason: str,
    message: str,
    component: str,
    *,
    warning: bool = False,
    host: str = "",
    field_path: str = "",
) -> None:
    """Store one Event about `obj`, as a component's event recorder does.

    Like client-go's EventCorrelator (`tools/record/events_cache.go`): a repeat of
    an event (same source, object, type, reason and message) is not stored again:
    the Event it repeats gets `count` + 1 and a new `lastTimestamp`. Once an
    object has had `AGGREGATE_AFTER` different messages for one reason within
    `AGGREGATE_WINDOW` seconds, further ones go into one Event whose message is
    `(combined from similar events): <latest message>`, counted the same way.
    """
    involved = reference(obj, kind)
    if field_path:
        involved["fieldPath"] = field_path
    kind_of = "Warning" if warning else "Normal"
    similar = (
        component,
        host,
        *(involved.get(k, "") for k in ("kind", "namespace", "name", "uid")),
        involved.get("fieldPath", ""),
        kind_of,
        reason,
    )
    key = (*similar, message)
    if _similar_seen(store, similar, message) >= AGGREGATE_AFTER:
        message = COMBINED + message
        key = similar
    now = timestamp()
    if _count_repeat(store, key, message, now):
        return
    source = {"component": component} | ({"host": host} if host else {})
    event = {
        "metadata": {
            "name": _name(store, obj["metadata"]["name"], involved),
            "namespace": involved.get("namespace", "default"),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": kind_of,
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or f"{component}-{store.cluster}",
    }
    created = store.create(kinds.EVENT, event)
    _remember(
        store,
        ("same", key),
        (created["metadata"]["namespace"], created["metadata"]["name"]),
    )
    _trim(store)


def _remember(store: Store, key: tuple[Any, ...], value: Any) -> None:
    cache = store.event_cache
    cache.pop(key, None)
    cache[key] = value  # newest last: the oldest go first past the cache size
    while len(cache) > CACHE_SIZE:
        del cache[next(iter(cache))]


def _similar_seen(store: Store, similar: tuple[Any, ...], message: str) -> int:
    """How many different messages `similar` events had in the current window."""
    now = time.monotonic()
    seen = store.event_cache.get(("similar", similar))
    if seen is None or now - seen[0] > AGGREGATE_WINDOW:
        seen = (now, set())
    messages: set[str] = seen[1]
    messages.add(message)
    _remember(store, ("similar", similar), (now, messages))
    return len(messages)


def _count_repeat(store: Store, key: tuple[Any, ...], message: str, now: str) -> bool:
    """Count a repeat into the Event it repeats, if that Event is still stored."""
    where = store.event_cache.get(("same", key))
    if where is None or store.peek(kinds.EVENT, *where) is None:
        return False

    def repeat(event: Obj) -> None:
        event["count"] = int(event.get("count") or 1) + 1
        event["lastTimestamp"] = now
        event["message"] = message

    store.mutate(kinds.EVENT, where[0], where[1], repeat)
    _remember(store, ("same", key), where)
    return True


def _name(store: Store, name: str, involved: dict[str, Any]) -> str:
    """`<object>.<hex nanoseconds>`, as the event recorder names events (so that
    they list in the order they happened)."""
    namespace = involved.get("namespace", "default")
    stamp = time.time_ns()
    while store.peek(kinds.EVENT, namespace, f"{name}.{stamp:x}") is not None:
        stamp += 1
    return f"{name}.{stamp:x}"


def _trim(store: Store) -> None:
    stored = store.count(kinds.EVENT)
    if stored <= KEEP + KEEP // 10:  # trim in batches: one sort per 500 events
        return
    oldest = sorted(
        store.objects(kinds.EVENT), key=lambda e: int(e["metadata"]["resourceVersion"])
    )
    for event in oldest[: stored - KEEP]:
        meta = event["metadata"]
        store.delete(kinds.EVENT, meta["namespace"], meta["name"])


def core_field_selector(text: str | None) -> str | None:
    """An events.k8s.io/v1 field selector in core/v1 field names (conversion.go)."""
    if not text:
        return text
    text = text.replace("regarding.", "involvedObject.")
    return text.replace("reportingController", "reportingComponent")


def to_events_v1(event: Obj) -> Obj:
    """A stored (core/v1) Event as events.k8s.io/v1 serves it."""
    out: Obj = {"apiVersion": "events.k8s.io/v1", "kind": "Event"}
    for field in _SAME:
        if field in event:
            out[field] = event[field]
    for old, new in _RENAMED.items():
        if event.get(old) not in (None, "", {}):
            out[new] = event[old]
    if not out.get("eventTime"):
        # conversion.go: an old-style event's eventTime is its first timestamp
        out["eventTime"] = _from_seconds(event.get("firstTimestamp"))
    return out


def from_events_v1(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event, as it is stored (core/v1 shape)."""
    if not isinstance(event, dict):
        raise ApiError.bad_request("the request body must be an Event object")
    out: Obj = {"apiVersion": "v1", "kind": "Event"}
    for field in _SAME:
        if field in event:
            out[field] = event[field]
    for old, new in _RENAMED.items():
        if new in event:
            out[old] = event[new]
    if not out.get("eventTime"):
        raise ApiError.invalid(
            "eventTime: Required value",
            "Event.events.k8s.io",
            (event.get("metadata") or {}).get("name", ""),
        )
    return out


def _from_seconds(stamp: Any) -> str | None:
    if not isinstance(stamp, str) or not stamp.endswith("Z"):
        return None
    return stamp[:-1] + ".000000Z"
