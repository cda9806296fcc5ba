"""`assignment()`: what istiod pushes to one proxy for one host.

Gateways, sidecars and waypoints get Envoy semantics relative to their *own* locality
and labels, after istiod's split-horizon EDS (`networks.split_horizon`: remote
networks through their east-west gateways). For a waypoint this is istiod's
inbound-VIP cluster built with the waypoint's locality
([I] `networking/core/cluster_waypoint.go:188-228`), so a DR's failoverPriority
is evaluated against the waypoint pod, not the original client.
ztunnel is delegated to `ztunnel.assignment`.
"""

from collections.abc import Sequence

from chaosext.mesh import networks, priorities, settings, ztunnel
from chaosext.mesh.types import (
    Assignment,
    Endpoint,
    Group,
    Proxy,
    ServiceConfig,
)


def _check_names(endpoints: Sequence[Endpoint]) -> None:
    seen: set[str] = set()
    for ep in endpoints:
        if ep.name in seen:
            raise ValueError(
                f"duplicate endpoint name {ep.name!r}: names must be unique"
            )
        seen.add(ep.name)


def assignment(
    proxy: Proxy, service: ServiceConfig, endpoints: Sequence[Endpoint]
) -> Assignment:
    """istiod's ClusterLoadAssignment for `proxy`, with the cluster knobs that route.

    Raises ValueError (naming the field) for a DestinationRule istiod would reject as
    malformed; run `validate_destination_rule` first for all messages.
    """
    _check_names(endpoints)
    if not proxy.is_envoy:
        return ztunnel.assignment(proxy, service, endpoints)
    return _envoy_assignment(proxy, service, endpoints)


def _envoy_assignment(
    proxy: Proxy, service: ServiceConfig, endpoints: Sequence[Endpoint]
) -> Assignment:
    applied = settings.applicable_setting(service)
    outlier = settings.parse_outlier(service)
    notes: list[str] = []
    unhealthy_ok = settings.supports_unhealthy_endpoints(service)
    sent = [e for e in endpoints if e.ready or unhealthy_ok]
    sent, unreachable = networks.split_horizon(proxy, service, sent)
    dropped = (
        *(e for e in endpoints if not (e.ready or unhealthy_ok)),
        *unreachable,
    )
    used = networks.gateways_used(sent)
    if used:
        notes.append(
            "other networks through their east-west gateways: "
            + ", ".join(used)
            + " (one endpoint per gateway and remote locality)"
        )
    if unreachable:
        notes.append(
            "unreachable on another network (no mTLS, or no gateway for a "
            "waypoint): " + ", ".join(sorted(e.name for e in unreachable))
        )
    distribution = settings.traffic_distribution(service.traffic_distribution)
    if distribution == settings.PREFER_NETWORK and applied.force_failover:
        notes.append(
            "PreferNetwork is a vendor value (OSS Istio ignores it): modelled as "
            "failoverPriority [topology.istio.io/network]"
        )
    if unhealthy_ok and any(not e.ready for e in endpoints):
        notes.append("traffic distribution set: not-ready endpoints sent as unhealthy")
    groups = priorities.locality_groups(sent)
    setting = applied.setting
    failover_on = applied.force_failover or outlier is not None
    blackholed: list[Endpoint] = []
    if setting is None:
        notes.append("locality load balancing off: every endpoint at priority 0")
    elif setting.distribute:
        rule, blackholed = priorities.apply_distribute(
            proxy.locality, groups, setting.distribute
        )
        if rule is None:
            notes.append(f"distribute: no `from` matches {proxy.locality}: unchanged")
        else:
            notes.append(f"distribute: `from: {rule.from_}` applies")
        if blackholed:
            notes.append(
                "distribute: localities in no `to` get no traffic (blackholed): "
                + ", ".join(sorted({str(e.locality) for e in blackholed}))
            )
    elif failover_on:
        if setting.failover_priority:
            groups = priorities.apply_failover_priority(
                proxy.mesh_labels(), groups, setting.failover_priority
            )
            notes.append("failoverPriority: " + ", ".join(setting.failover_priority))
            if setting.failover:
                priorities.apply_failover(proxy.locality, groups, setting.failover)
                notes.append("failover composed on top of failoverPriority")
        else:
            priorities.apply_failover(proxy.locality, groups, setting.failover)
            notes.append(
                "locality failover: default priorities"
                + (" with `failover`" if setting.failover else "")
            )
    else:
        notes.append(
            "no outlierDetection (and no traffic distribution): failover off, every "
            "endpoint at priority 0, no locality preference"
        )
    locality_weighted = setting is not None and (
        bool(setting.distribute)
        or (failover_on and bool(setting.failover or setting.failover_priority))
    )
    panic = settings.panic_threshold(service, outlier)
    out = tuple(
        sorted(
            (
                Group(g.priority, g.locality, tuple(g.endpoints), g.weight)
                for g in groups
                if g.endpoints
            ),
            key=lambda g: (g.priority, str(g.locality)),
        )
    )
    hops = {
        name: assignment(
            *networks.hop(service, endpoints, networks.gateway_named(service, name))
        )
        for name in networks.gateways_used([e for g in out for e in g.endpoints])
    }
    for name, hop in hops.items():
        notes.append(
            f"{name} picks the pod itself, at {hop.proxy.locality} "
            f"(its setting: {hop.setting_source})"
        )
    return Assignment(
        proxy=proxy,
        mode="envoy",
        groups=out,
        setting_source=applied.source,
        setting=setting,
        failover_enabled=failover_on,
        locality_weighted=locality_weighted,
        panic_threshold=panic,
        outlier=outlier,
        blackholed=tuple(sorted(blackholed, key=lambda e: e.name)),
        dropped=dropped,
        notes=tuple(notes),
        hops=hops,
    )
