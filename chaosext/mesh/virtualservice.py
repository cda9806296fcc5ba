"""Istio `VirtualService` HTTP routes as a calling proxy applies them: faults, timeout.

A VirtualService fault (`http[].fault`: `abort: {httpStatus, percentage: {value}}`,
`delay: {fixedDelay, percentage: {value}}`) acts in the CALLER's Envoy for requests
to a host: an abort is answered by that Envoy without contacting any upstream, a
delay holds the request before it is forwarded. `http[].timeout` is the route's
timeout: past it the caller's Envoy answers 504 "upstream request timeout" (and
its outlier detection counts a 504 against the host that was too slow).

Which VirtualService applies (istiod, `pilot/pkg/model/push_context.go` and
`virtualservice.go`): one of the proxy's own cluster (each istiod reads its own
cluster's config), exported to the proxy's namespace (`exportTo`; none means
`*`, `.` means its own namespace), bound to the proxy: `gateways` empty or
holding `mesh` for sidecars and waypoints, naming a Gateway that selects it for
an ingress gateway; with a host (short names completed in the VirtualService's
namespace, `*.suffix` wildcards) matching the host called. With several, the
oldest applies (istiod keeps the first one for a host and drops the rest for
sidecars; gateways merge their routes in creation order, first match wins).
Route `match` conditions are not evaluated: the first route without one applies
(a route with matches is skipped: this model does not see request headers).

`virtual_service` builds the object meshdrill creates; `route_for` reads back
what a proxy would do. Pure: no I/O.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaosext.mesh import durations, kube, lookup, names
from chaosext.mesh.httpfault import HttpFault

API_VERSION = "networking.istio.io/v1"
KIND = "VirtualService"
MESH = "mesh"


@dataclass(frozen=True)
class Route:
    """What a proxy does to a request for one host, beyond choosing an endpoint."""

    fault: HttpFault | None = None
    timeout: float | None = None  # seconds; None: no route timeout
    source: str = ""  # namespace/name of the VirtualService


def _percent_value(percent: float) -> float:
    return round(float(percent), 4)


def vs_fault(fault: HttpFault) -> dict[str, Any]:
    """`http[].fault` for `fault` (percentages always written: unset means none)."""
    out: dict[str, Any] = {}
    if fault.delay:
        out["delay"] = {
            "fixedDelay": durations.format_duration(fault.delay),
            "percentage": {"value": _percent_value(fault.delay_percent)},
        }
    if fault.status is not None:
        out["abort"] = {
            "httpStatus": fault.status,
            "percentage": {"value": _percent_value(fault.abort_percent)},
        }
    return out


def virtual_service(
    name: str,
    namespace: str,
    host: str,
    fault: HttpFault,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The VirtualService putting `fault` on every mesh caller's requests to `host`
    (no `gateways`: sidecars and waypoints), routing them on to `host`."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": kube.object_meta(name, namespace, labels, annotations),
        "spec": {
            "hosts": [host],
            "http": [
                {"fault": vs_fault(fault), "route": [{"destination": {"host": host}}]}
            ],
        },
    }


def _share(data: Mapping[str, Any]) -> float:
    """`percentage.value`, else the deprecated integer `percent`; unset: 0."""
    share = data.get("percentage")
    if isinstance(share, Mapping):
        return max(0.0, min(100.0, float(share.get("value", 0.0))))
    return max(0.0, min(100.0, float(data.get("percent", 0))))


def route_fault(fault: Any) -> HttpFault | None:
    """The fault of one `http[].fault`, or None (nothing that would ever act)."""
    if not isinstance(fault, Mapping):
        return None
    try:
        abort = fault.get("abort") or {}
        delay = fault.get("delay") or {}
        status = abort.get("httpStatus")
        fixed = delay.get("fixedDelay")
        result = HttpFault(  # the share of a part that is absent: as the default
            status=int(status) if status else None,
            abort_percent=_share(abort) if status else 100.0,
            delay=durations.parse_duration(fixed) if fixed else 0.0,
            delay_percent=_share(delay) if fixed else 100.0,
        )
    except (ValueError, TypeError, AttributeError):
        return None
    aborts = result.status is not None and result.abort_percent > 0
    delays = result.delay > 0 and result.delay_percent > 0
    return result if aborts or delays else None


def first_route(spec: Mapping[str, Any]) -> Route | None:
    """The first `http` route without `match` conditions, as a Route."""
    for http in spec.get("http") or ():
        if not isinstance(http, Mapping) or http.get("match"):
            continue
        timeout = None
        if http.get("timeout"):
            try:
                timeout = durations.parse_duration(str(http["timeout"])) or None
            except ValueError:
                timeout = None
        return Route(route_fault(http.get("fault")), timeout)
    return None


def hosts_of(obj: Mapping[str, Any]) -> list[str]:
    """The VirtualService's hosts, short names completed in its namespace."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace", ""))
    spec = obj.get("spec") or {}
    return [lookup.fqdn(str(h), namespace) for h in spec.get("hosts") or ()]


def serves(obj: Mapping[str, Any], host: str) -> bool:
    """Whether one of the VirtualService's hosts matches `host`."""
    return any(lookup.host_matches(host, h) for h in hosts_of(obj))


def gateways_of(obj: Mapping[str, Any]) -> list[str]:
    """`gateways` as `namespace/name` (or `mesh`); none given means `mesh`."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace", ""))
    given = [str(g) for g in (obj.get("spec") or {}).get("gateways") or ()]
    return [g if g == MESH or "/" in g else f"{namespace}/{g}" for g in given] or [MESH]


def exported_to(obj: Mapping[str, Any], namespace: str) -> bool:
    """`exportTo` lets a proxy in `namespace` see the VirtualService."""
    meta = obj.get("metadata") or {}
    export = [str(e) for e in (obj.get("spec") or {}).get("exportTo") or ()]
    if not export or names.DEFAULT_EXPORT_TO in export:
        return True
    return namespace in export or (
        names.EXPORT_PRIVATE in export and namespace == meta.get("namespace")
    )


def _age(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (
        str(meta.get("creationTimestamp") or ""),
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
    )


def route_for(
    services: Iterable[Mapping[str, Any]],
    host: str,
    proxy_namespace: str,
    bindings: Sequence[str] = (MESH,),
) -> Route | None:
    """The route a proxy applies to requests for `host`, from its cluster's
    VirtualServices. `bindings`: what the proxy is, as `gateways` name it (`mesh`
    for a sidecar or waypoint; `namespace/name` of each Gateway that selects an
    ingress gateway). None: no VirtualService applies."""
    for obj in sorted(services, key=_age):
        if not exported_to(obj, proxy_namespace) or not serves(obj, host):
            continue
        if not set(gateways_of(obj)) & set(bindings):
            continue
        route = first_route(obj.get("spec") or {})
        if route is None:
            if MESH in bindings:
                return None  # istiod keeps only the oldest for a mesh host
            continue  # a gateway merges: a later one's routes may match
        meta = obj.get("metadata") or {}
        return Route(
            route.fault, route.timeout, f"{meta.get('namespace')}/{meta.get('name')}"
        )
    return None
