"""`explain()`: an assignment and its predicted shares as text (lab explain)."""

from collections.abc import Collection, Sequence

from chaosext.mesh.cla import assignment
from chaosext.mesh.durations import format_duration
from chaosext.mesh.shares import shares_for
from chaosext.mesh.types import Assignment, Endpoint, Outlier, Proxy, ServiceConfig


def _outlier_line(o: Outlier | None) -> str:
    if o is None:
        return "outlier detection: off"
    gateway = o.consecutive_gateway or "off"
    five = o.consecutive_5xx or "off"
    return (
        f"outlier detection: consecutive 5xx {five}, gateway errors {gateway}, "
        f"interval {format_duration(o.interval)}, base ejection "
        f"{format_duration(o.base_ejection_time)}, max ejection "
        f"{o.max_ejection_percent:g}%"
    )


def describe(assigned: Assignment, unhealthy: Collection[str] = ()) -> list[str]:
    """Lines explaining an assignment and where requests go."""
    proxy = assigned.proxy
    shares = shares_for(assigned, unhealthy)
    lines = [
        f"{proxy.kind} {proxy.name} (cluster {proxy.cluster}, network "
        f"{proxy.network}, locality {str(proxy.locality) or '-'}) -> "
        f"{assigned.mode} rules",
        f"setting: {assigned.setting_source}",
    ]
    if assigned.mode == "ztunnel":
        scopes = ", ".join(assigned.routing_preference) or "none"
        lines.append(
            f"routing preference: {scopes}; only priority 0 is used (no spill)"
        )
    else:
        lines.append(
            f"failover: {'on' if assigned.failover_enabled else 'off'}; "
            f"locality-weighted LB: {'on' if assigned.locality_weighted else 'off'}; "
            f"panic threshold: {assigned.panic_threshold:g}%"
        )
        lines.append(_outlier_line(assigned.outlier))
    lines += [f"note: {note}" for note in assigned.notes]
    for group in assigned.groups:
        lines.append(
            f"P{group.priority} {str(group.locality) or '(no locality)'} "
            f"weight {group.weight}"
        )
        for ep in group.endpoints:
            state = " unhealthy" if ep.name in unhealthy or not ep.ready else ""
            share = 100 * shares.get(ep.name, 0.0)
            lines.append(f"  {ep.name} [{ep.cluster}]{state}: {share:.1f}%")
            if ep.gateway:
                hop = shares_for(assigned.hops[ep.gateway])
                lines += [
                    f"    -> {pod.name}: {100 * hop.get(pod.name, 0.0):.1f}% "
                    "of what the gateway gets"
                    for pod in ep.behind
                ]
    for ep in assigned.blackholed:
        lines.append(f"blackholed {ep.name} [{ep.cluster}] {ep.locality}: 0%")
    for ep in assigned.dropped:
        why = "not ready" if not ep.ready else "unreachable on its network"
        lines.append(f"not sent ({why}) {ep.name} [{ep.cluster}]")
    if not shares:
        lines.append("every request fails: no healthy upstream (503)")
    return lines


def explain(
    proxy: Proxy,
    service: ServiceConfig,
    endpoints: Sequence[Endpoint],
    *,
    unhealthy: Collection[str] = (),
) -> str:
    """A multi-line explanation of how `proxy` routes to `service` right now."""
    return "\n".join(describe(assignment(proxy, service, endpoints), unhealthy))
