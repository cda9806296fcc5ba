"""Envoy access-log lines of the lab's waypoints, as `kubectl logs` shows them.

A waypoint (an Envoy) writes one line per request it routes when Istio turns its
access log on, in Istio's default text format
([I] `pkg/config/mesh/mesh.go`, `EnvoyTextLogFormat`):

    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
    %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%
    %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
    %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
    "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"
    "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
    %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
    %REQUESTED_SERVER_NAME% %ROUTE_NAME%

(one line; a waypoint's upstream cluster is `inbound-vip|<port>|http|<host>`).

On or off (`enabled`), as istiod decides it: the most specific Telemetry
(`telemetry.istio.io`) with `accessLogging` wins: one selecting the waypoint (its
`selector`, or a `targetRef(s)` naming its Gateway) in its namespace, else one for
the whole namespace, else one in the root namespace (istio-system); an entry
turns logging on unless `disabled: true`. With no such Telemetry, meshConfig
`accessLogFile` (the topology's `mesh: accessLogFile`) set means on. Providers,
`filter` and `match` are not interpreted.
"""

import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chaosext.lab import kinds
from chaosext.lab.store import Obj, Store
from chaosext.mesh import names

TELEMETRY = kinds.by_kind("telemetry.istio.io/v1", "Telemetry")
LOG_LINES = 1000


@dataclass
class ProxyLog:
    """What an Envoy pod prints: `kubectl logs` reads `log` (newest last)."""

    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))


def _targets(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    refs = list(spec.get("targetRefs") or [])
    if spec.get("targetRef"):
        refs.append(spec["targetRef"])
    return refs


def _selects(spec: Mapping[str, Any], labels: Mapping[str, str], gateway: str) -> bool:
    wanted = (spec.get("selector") or {}).get("matchLabels") or {}
    if wanted and all(labels.get(k) == v for k, v in wanted.items()):
        return True
    return any(
        ref.get("kind") == "Gateway" and ref.get("name") == gateway
        for ref in _targets(spec)
    )


def _scoped(spec: Mapping[str, Any]) -> bool:
    return bool((spec.get("selector") or {}).get("matchLabels") or _targets(spec))


def _decide(telemetries: Iterable[Obj]) -> bool | None:
    ordered = sorted(
        telemetries,
        key=lambda t: (
            t["metadata"].get("creationTimestamp", ""),
            t["metadata"]["name"],
        ),
    )
    entries = [
        entry
        for t in ordered
        for entry in (t.get("spec") or {}).get("accessLogging") or []
        if isinstance(entry, dict)
    ]
    if not entries:
        return None
    return any(not entry.get("disabled") for entry in entries)


def enabled(
    store: Store,
    namespace: str,
    labels: Mapping[str, str],
    gateway: str,
    mesh_access_log_file: str,
) -> bool:
    """Whether the waypoint `gateway` (pod `labels`, in `namespace`) logs access."""
    found = list(store.objects(TELEMETRY)) if TELEMETRY is not None else []
    mine = [t for t in found if t["metadata"]["namespace"] == namespace]
    root = [
        t
        for t in found
        if t["metadata"]["namespace"] == names.ROOT_NAMESPACE
        and not _scoped(t.get("spec") or {})
    ]
    for level in (
        [t for t in mine if _selects(t.get("spec") or {}, labels, gateway)],
        [t for t in mine if not _scoped(t.get("spec") or {})],
        root,
    ):
        decided = _decide(level)
        if decided is not None:
            return decided
    return bool(mesh_access_log_file)


@dataclass(frozen=True)
class Access:
    """One request as the proxy saw it."""

    start: float  # Unix time
    method: str
    path: str
    protocol: str
    status: int
    flags: str  # Envoy response flags ("-": none)
    details: str
    bytes_received: int
    bytes_sent: int
    duration_ms: int
    upstream_ms: int | None
    user_agent: str
    request_id: str
    authority: str
    upstream_host: str
    upstream_cluster: str
    downstream_local: str
    downstream_remote: str


def _quoted(value: str) -> str:
    return f'"{value or "-"}"'


def line(access: Access) -> str:
    """The access-log line of Istio's default text format."""
    when = datetime.fromtimestamp(access.start, UTC)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    upstream_ms = "-" if access.upstream_ms is None else str(access.upstream_ms)
    return (
        f"[{stamp}] "
        f'"{access.method} {access.path} {access.protocol}" '
        f"{access.status} {access.flags} {access.details} - "
        f'"-" {access.bytes_received} {access.bytes_sent} {access.duration_ms} '
        f"{upstream_ms} "
        f'"-" {_quoted(access.user_agent)} {_quoted(access.request_id)} '
        f"{_quoted(access.authority)} {_quoted(access.upstream_host)} "
        f"{access.upstream_cluster or '-'} - {access.downstream_local} "
        f"{access.downstream_remote} - default"
    )


def request_id(headers: Mapping[str, str]) -> str:
    """The request's `x-request-id`, else a new one (as Envoy generates it)."""
    return headers.get("x-request-id") or str(uuid.uuid4())
