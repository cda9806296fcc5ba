"""istiod's locality load balancing on a ClusterLoadAssignment (pure functions).

Rule for rule from [I] `pilot/pkg/networking/core/loadbalancer/loadbalancer.go`
(`applyLocalityWeights`, `applyLocalityFailover`, `applyFailoverPriorities`,
`applyFailoverPriorityPerLocality`, `priorityLabelOverrides`) and
`pilot/pkg/networking/util/util.go` (`LocalityMatch`, `LbPriority`).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chaosext.mesh.types import (
    Distribute,
    Endpoint,
    Failover,
    Locality,
)


@dataclass
class Lle:
    """A LocalityLbEndpoints under construction (mutable, like istiod's protos)."""

    locality: Locality
    endpoints: list[Endpoint]
    weight: int
    priority: int = 0
    labels: list[dict[str, str]] = field(default_factory=list)


def _locality_key(locality: Locality) -> tuple[str, str, str]:
    return (locality.region, locality.zone, locality.subzone)


def locality_groups(endpoints: Iterable[Endpoint]) -> list[Lle]:
    """One group per locality (region/zone/subzone; cluster ignored), weight = sum of
    endpoint weights (`endpoint_builder.go:475-490`). Sorted for determinism.
    """
    by_locality: dict[tuple[str, str, str], list[Endpoint]] = {}
    for ep in endpoints:
        by_locality.setdefault(_locality_key(ep.locality), []).append(ep)
    groups = []
    for key in sorted(by_locality):
        members = sorted(by_locality[key], key=lambda e: e.name)
        groups.append(
            Lle(
                locality=Locality(*key),
                endpoints=members,
                weight=sum(e.lb_weight for e in members),
                labels=[e.mesh_labels() for e in members],
            )
        )
    return groups


def split_locality(rule: str) -> tuple[str, str, str]:
    """`region/zone/subzone` split like `SplitLocalityLabel` (missing parts are "")."""
    items = rule.split("/")
    items += [""] * (3 - len(items))
    return items[0], items[1], items[2]


def locality_match(locality: Locality, rule: str) -> bool:
    """`util.LocalityMatch`: region must equal (or be `*`); zone and subzone match when
    equal, `*` or omitted. So `us-west`, `us-west/*` and `*` all match `us-west/z1`.
    """
    region, zone, subzone = split_locality(rule)
    return (
        (region == "*" or locality.region == region)
        and (zone in ("*", "") or locality.zone == zone)
        and (subzone in ("*", "") or locality.subzone == subzone)
    )


def lb_priority(proxy: Locality, endpoint: Locality) -> int:
    """`util.LbPriority`: 0 same region+zone+subzone, 1 same zone, 2 same region,
    3 other region.

    Empty strings compare equal, so no topology labels anywhere puts everything at 0.
    """
    if proxy.region != endpoint.region:
        return 3
    if proxy.zone != endpoint.zone:
        return 2
    if proxy.subzone != endpoint.subzone:
        return 1
    return 0


def compact(groups: Sequence[Lle]) -> None:
    """Renumber priorities 0..N-1 without gaps, keeping their order."""
    ranks = {p: i for i, p in enumerate(sorted({g.priority for g in groups}))}
    for group in groups:
        group.priority = ranks[group.priority]


def apply_distribute(
    proxy: Locality, groups: list[Lle], rules: Sequence[Distribute]
) -> tuple[Distribute | None, list[Endpoint]]:
    """`applyLocalityWeights`: the first `from` matching the proxy wins.

    Each `to` key claims the still-unclaimed groups it matches; a claimed group's weight
    becomes ceil(orig x W / sum(orig of the groups this key claimed)) (integer maths
    equal to Go's float ceil). Groups no `to` claims lose their endpoints: they are
    returned as blackholed and never get traffic, even when every listed one fails.
    istiod walks `to` as a Go map (random order); validation forbids overlapping keys,
    so the order only matters for invalid rules, where this model uses YAML order.
    No matching `from` -> the assignment is left as is (returns None, []).
    """
    for rule in rules:
        if not locality_match(proxy, rule.from_):
            continue
        unclaimed = set(range(len(groups)))
        for pattern, weight in rule.to:
            claimed = [
                i
                for i in sorted(unclaimed)
                if locality_match(groups[i].locality, pattern)
            ]
            unclaimed.difference_update(claimed)
            total = sum(groups[i].weight for i in claimed)
            for i in claimed:
                scaled = -(-groups[i].weight * weight // total)
                if scaled > 0:
                    groups[i].weight = scaled
        blackholed: list[Endpoint] = []
        for i in sorted(unclaimed):
            blackholed.extend(groups[i].endpoints)
            groups[i].endpoints = []
            groups[i].labels = []
        return rule, blackholed
    return None, []


def apply_failover(
    proxy: Locality, groups: list[Lle], failover: Sequence[Failover]
) -> None:
    """`applyLocalityFailover`: default priorities, `failover`, composition, compaction.

    Raw priority = `lb_priority` (0..3). For raw 3 (another region) the first `failover`
    entry whose `from` is the proxy's region keeps its `to` region at 3 and pushes every
    other region to 4. The result is composed with any priority already assigned by
    failoverPriority as `previous x 5 + raw`, then compacted.
    """
    for group in groups:
        raw = lb_priority(proxy, group.locality)
        if raw == 3:
            for entry in failover:
                if entry.from_ == proxy.region:
                    if group.locality.region != entry.to:
                        raw = 4
                    break
        group.priority = group.priority * 5 + raw
    compact(groups)


def priority_label_overrides(
    labels: Sequence[str],
) -> tuple[list[str], dict[str, str]]:
    """`priorityLabelOverrides`: `key=value` compares endpoints with `value` instead of
    the proxy's label (`key=` matches endpoints lacking the label); `k=a=b` has no
    override (only the key before the first `=` is used).
    """
    names: list[str] = []
    overrides: dict[str, str] = {}
    for item in labels:
        parts = item.split("=")
        names.append(parts[0])
        if len(parts) == 2:
            overrides[parts[0]] = parts[1]
    return names, overrides


def failover_priority_of(
    proxy_labels: Mapping[str, str],
    endpoint_labels: Mapping[str, str],
    names: Sequence[str],
    overrides: Mapping[str, str],
) -> int:
    """N - j at the first label j whose value differs from the proxy's (0 if none)."""
    for j, name in enumerate(names):
        wanted = overrides.get(name, proxy_labels.get(name, ""))
        if wanted != endpoint_labels.get(name, ""):
            return len(names) - j
    return 0


def apply_failover_priority(
    proxy_labels: Mapping[str, str], groups: list[Lle], labels: Sequence[str]
) -> list[Lle]:
    """`applyFailoverPriorities`: split each locality group by label priority.

    Each group becomes one group per priority present among its endpoints (weight = sum
    of those endpoints' weights); then priorities are compacted over all groups. A
    proxy without labels leaves the assignment unchanged (istiod returns early).
    """
    if not proxy_labels or not groups:
        return groups
    names, overrides = priority_label_overrides(labels)
    out: list[Lle] = []
    for group in groups:
        by_priority: dict[int, list[int]] = {}
        for i, ep_labels in enumerate(group.labels):
            prio = failover_priority_of(proxy_labels, ep_labels, names, overrides)
            by_priority.setdefault(prio, []).append(i)
        for prio in sorted(by_priority):
            members = by_priority[prio]
            out.append(
                Lle(
                    locality=group.locality,
                    endpoints=[group.endpoints[i] for i in members],
                    weight=sum(group.endpoints[i].lb_weight for i in members),
                    priority=prio,
                    labels=[group.labels[i] for i in members],
                )
            )
    compact(out)
    return out
