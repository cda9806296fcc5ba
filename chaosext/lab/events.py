"""Events: what the controllers, the scheduler and the kubelet report, and the two
APIs that serve them (core/v1 `Event` and `events.k8s.io/v1` `Event`).

Both APIs read and write the same stored objects (core/v1 shape), as the real API
server does; `to_events_v1` and `from_events_v1` convert between the shapes with
the field mapping of Kubernetes' `pkg/apis/events/v1/conversion.go`.
"""

import secrets
import time
from typing import Any

from chaosext.lab import kinds
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, Store, timestamp

KEEP = 5000
"""Events kept per cluster; the oldest go first (a real server expires them in 1 h)."""

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
    """Store one Event about `obj`, as a component's event recorder does."""
    involved = reference(obj, kind)
    if field_path:
        involved["fieldPath"] = field_path
    now = timestamp()
    source = {"component": component} | ({"host": host} if host else {})
    event = {
        "metadata": {
            "name": f"{obj['metadata']['name']}.{secrets.token_hex(8)}",
            "namespace": involved.get("namespace", "default"),
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": source,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or f"{component}-{store.cluster}",
    }
    store.create(kinds.EVENT, event)
    _trim(store)


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
