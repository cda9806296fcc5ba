"""ztunnel (ambient L4) endpoint choice: best-ranked set, no spill, no outlier
detection.

istiod maps the Service traffic distribution to WDS `LoadBalancing`
([I] `pilot/pkg/serviceregistry/ambient/services.go:645-735`); ztunnel's `load_balance`
([Z] `src/state.rs:375-490`) ranks each endpoint by the number of leading scopes it
shares with the source workload (stopping at the first mismatch) and keeps only the
endpoints with the highest rank, picking one weighted by capacity per connection.
DestinationRules are ignored. Not-ready endpoints are not in the set
(`src/state/service.rs:246-252`).
"""

from collections.abc import Sequence

from chaosext.mesh.settings import (
    PREFER_NETWORK,
    PREFER_SAME_NODE,
    PREFER_SAME_ZONE,
    traffic_distribution,
)
from chaosext.mesh.types import (
    Assignment,
    Endpoint,
    Group,
    Locality,
    Proxy,
    ServiceConfig,
)

NETWORK, REGION, ZONE, SUBZONE, NODE = "NETWORK", "REGION", "ZONE", "SUBZONE", "NODE"

ROUTING_PREFERENCE: dict[str, tuple[str, ...]] = {
    PREFER_SAME_ZONE: (NETWORK, REGION, ZONE),
    PREFER_SAME_NODE: (NETWORK, REGION, ZONE, SUBZONE, NODE),
    # Vendor value (guide 001's default): prefer the local network, then anything.
    PREFER_NETWORK: (NETWORK,),
}


def _scope_matches(scope: str, source: Proxy, endpoint: Endpoint) -> bool:
    if scope == NETWORK:
        return source.network == endpoint.network
    if scope == REGION:
        return source.locality.region == endpoint.locality.region
    if scope == ZONE:
        return source.locality.zone == endpoint.locality.zone
    if scope == SUBZONE:
        return source.locality.subzone == endpoint.locality.subzone
    return source.node == endpoint.node


def rank(source: Proxy, endpoint: Endpoint, scopes: Sequence[str]) -> int:
    """Number of leading scopes the endpoint shares with the source workload."""
    count = 0
    for scope in scopes:
        if not _scope_matches(scope, source, endpoint):
            break
        count += 1
    return count


def assignment(
    proxy: Proxy, service: ServiceConfig, endpoints: Sequence[Endpoint]
) -> Assignment:
    """Endpoints grouped by rank: priority 0 is the best-ranked set, the only one used.

    PreferClose/PreferSameZone -> FAILOVER [NETWORK, REGION, ZONE]; PreferSameNode ->
    [NETWORK, REGION, ZONE, SUBZONE, NODE]; PreferNetwork (vendor) -> [NETWORK];
    unset -> Standard: every endpoint equal.
    """
    distribution = traffic_distribution(service.traffic_distribution)
    scopes = ROUTING_PREFERENCE.get(distribution or "", ())
    notes = []
    if service.destination_rule is not None:
        notes.append("ztunnel ignores DestinationRules (L4): the DR has no effect here")
    if service.traffic_distribution and distribution is None:
        notes.append(
            f"unknown traffic distribution {service.traffic_distribution!r}: ignored"
        )
    if distribution == PREFER_NETWORK:
        notes.append(
            "PreferNetwork is a vendor value (not in OSS Istio/ztunnel): modelled as "
            "routing preference [NETWORK]"
        )
    ready = [e for e in endpoints if e.ready]
    dropped = tuple(e for e in endpoints if not e.ready)
    ranks = {e.name: rank(proxy, e, scopes) for e in ready}
    order = {r: i for i, r in enumerate(sorted(set(ranks.values()), reverse=True))}
    buckets: dict[tuple[int, tuple[str, str, str]], list[Endpoint]] = {}
    for ep in ready:
        key = (
            order[ranks[ep.name]],
            (ep.locality.region, ep.locality.zone, ep.locality.subzone),
        )
        buckets.setdefault(key, []).append(ep)
    groups = tuple(
        Group(
            priority=prio,
            locality=Locality(*loc),
            endpoints=tuple(sorted(members, key=lambda e: e.name)),
            weight=sum(e.lb_weight for e in members),
        )
        for (prio, loc), members in sorted(buckets.items())
    )
    source = (
        f"traffic-distribution {service.traffic_distribution}"
        if distribution
        else "none (Standard)"
    )
    return Assignment(
        proxy=proxy,
        mode="ztunnel",
        groups=groups,
        setting_source=source,
        setting=None,
        failover_enabled=bool(scopes),
        locality_weighted=False,
        panic_threshold=0.0,
        outlier=None,
        dropped=dropped,
        routing_preference=scopes,
        notes=tuple(notes),
    )


def best_set(assignment: Assignment) -> tuple[Endpoint, ...]:
    """The endpoints ztunnel connects to: the best-ranked ones (priority 0)."""
    return tuple(ep for g in assignment.groups if g.priority == 0 for ep in g.endpoints)
