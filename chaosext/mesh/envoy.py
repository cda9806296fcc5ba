"""Envoy's choice among priorities, localities and hosts (pure functions).

From [E] `load_balancer_impl.cc` (LoadBalancerBase: `recalculatePerPriorityState`,
`distributeLoad`, `recalculatePerPriorityPanic`, `isHostSetInPanic`,
`recalculateLoadInTotalPanic`, `choosePriority`; ZoneAwareLoadBalancerBase:
`hostSourceToUse`) and `locality_wrr.cc` (`effectiveLocalityWeight`).
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from chaosext.mesh.types import Assignment, Endpoint, Group

OVERPROVISIONING_FACTOR = 140  # istiod never sets it: Envoy's default


def priority_health(hosts: int, healthy: int) -> int:
    """health_p = min(100, floor(140 x healthy / hosts)); 0 for an empty priority."""
    if hosts <= 0:
        return 0
    return min(100, OVERPROVISIONING_FACTOR * healthy // hosts)


def in_panic(hosts: int, healthy: int, threshold: float) -> bool:
    """`isHostSetInPanic`: 100 x healthy / hosts < threshold (no overprovisioning)."""
    percent = 0.0 if hosts <= 0 else 100.0 * healthy / hosts
    return percent < threshold


@dataclass(frozen=True)
class PriorityLoad:
    """Percent of requests per priority (sums to 100) and which priorities panic.

    `no_healthy` is Envoy's corner case "panic disabled and nothing healthy": P0 takes
    100% but has no healthy host, so every request fails with 503 no healthy upstream.
    """

    loads: tuple[int, ...]
    panic: tuple[bool, ...]
    no_healthy: bool = False


def _remainder_to(loads: list[int], index: int) -> None:
    loads[index] += 100 - sum(loads)


def priority_load(counts: Sequence[tuple[int, int]], threshold: float) -> PriorityLoad:
    """Per-priority load from (hosts, healthy) per priority and the panic threshold.

    NTA = min(100, sum health_p); load_p = min(remaining, floor(health_p x 100 / NTA))
    in priority order, the rounding remainder to the first priority with health > 0.
    Threshold 0 and NTA 0 -> `no_healthy`. A priority panics only when NTA < 100 and
    its healthy share is under the threshold; when all panic, load follows host counts.
    """
    size = len(counts)
    if size == 0:
        return PriorityLoad((), (), no_healthy=True)
    threshold = min(100.0, float(round(threshold)))
    health = [priority_health(n, h) for n, h in counts]
    total = min(100, sum(health))
    if threshold == 0 and total == 0:
        return PriorityLoad((100,) + (0,) * (size - 1), (False,) * size, True)
    loads = [0] * size
    if total > 0:
        remaining = 100
        for i, hp in enumerate(health):
            loads[i] = min(remaining, hp * 100 // total)
            remaining -= loads[i]
        _remainder_to(loads, next(i for i, hp in enumerate(health) if hp > 0))
    if total == 100:
        panic = [False] * size
    else:
        panic = [in_panic(n, h, threshold) for n, h in counts]
    if all(panic):
        hosts = sum(n for n, _ in counts)
        if hosts == 0:
            loads = [100] + [0] * (size - 1)
        else:
            loads = [100 * n // hosts for n, _ in counts]
            _remainder_to(loads, next(i for i, (n, _) in enumerate(counts) if n))
    return PriorityLoad(tuple(loads), tuple(panic))


def effective_locality_weight(weight: int, hosts: int, healthy: int) -> float:
    """`effectiveLocalityWeight`: w x min(1, 1.4 x healthy / hosts); 0 when empty."""
    if hosts <= 0:
        return 0.0
    ratio = OVERPROVISIONING_FACTOR / 100 * healthy / hosts
    return weight * min(1.0, ratio)


HostSource = tuple[float, tuple[Endpoint, ...]]


def host_sources(
    groups: Sequence[Group],
    unhealthy: Collection[str],
    panic: bool,
    locality_weighted: bool,
) -> list[HostSource]:
    """Where a request that landed on this priority goes: (fraction, hosts) pairs.

    The host inside a source is chosen in proportion to its weight (what RR, least
    request and random all give in the long run). Order follows `hostSourceToUse`:
    panic -> all hosts of the priority, ejected included, locality ignored; else with
    locality-weighted LB a locality in proportion to its effective weight, then its
    healthy hosts; else the healthy hosts of the priority, locality ignored.
    """
    every = tuple(ep for g in groups for ep in g.endpoints)
    if panic:
        return [(1.0, every)] if every else []
    if locality_weighted:
        weighted = []
        for group in groups:
            healthy = tuple(e for e in group.endpoints if e.name not in unhealthy)
            eff = effective_locality_weight(
                group.weight, len(group.endpoints), len(healthy)
            )
            if eff > 0:
                weighted.append((eff, healthy))
        total = sum(eff for eff, _ in weighted)
        if total > 0:
            return [(eff / total, hosts) for eff, hosts in weighted]
    healthy = tuple(e for e in every if e.name not in unhealthy)
    return [(1.0, healthy)] if healthy else []


@dataclass(frozen=True)
class Plan:
    """Everything Envoy needs to route one request, for one set of unhealthy hosts."""

    load: PriorityLoad
    sources: tuple[tuple[HostSource, ...], ...]


def unhealthy_names(assignment: Assignment, ejected: Collection[str]) -> frozenset[str]:
    """Hosts Envoy counts as unhealthy: ejected, or sent while not ready."""
    names = {e.name for e in assignment.endpoints() if not e.ready}
    return frozenset(names | set(ejected))


def plan(assignment: Assignment, ejected: Collection[str] = ()) -> Plan:
    """Priority loads and per-priority host sources for an Envoy assignment."""
    unhealthy = unhealthy_names(assignment, ejected)
    per_priority = assignment.priorities()
    counts = []
    for groups in per_priority:
        names = [e.name for g in groups for e in g.endpoints]
        counts.append((len(names), sum(1 for n in names if n not in unhealthy)))
    load = priority_load(counts, assignment.panic_threshold)
    sources = tuple(
        tuple(
            host_sources(groups, unhealthy, panic, assignment.locality_weighted)
            if share > 0
            else ()
        )
        for groups, share, panic in zip(
            per_priority, load.loads, load.panic, strict=True
        )
    )
    return Plan(load, sources)


def choose_priority(loads: Sequence[int], draw: int) -> int:
    """`choosePriority`: with draw = random % 100 + 1, the first p whose cumulative
    load reaches draw."""
    total = 0
    for priority, load in enumerate(loads):
        total += load
        if draw <= total:
            return priority
    return len(loads) - 1
