"""Lint rules for one DestinationRule: configurations that do not do what their
authors evidently want. Pure: a rule's spec, plus the endpoints its host has now.

Each `Finding` says what is wrong (`reason`), the Istio/Envoy rule behind it
(`rule`) and how to fix it (`fix`). `meshdrill mesh lint` (`chaosext.live.lint`)
runs these on every DestinationRule it reads, and adds the checks that need the
whole mesh (traffic distribution per cluster, rules that do not reach a client).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaosext.mesh import names
from chaosext.mesh.priorities import locality_match
from chaosext.mesh.settings import LB_PATH, OUTLIER_PATH, parse_locality_setting
from chaosext.mesh.types import Locality

# Coarse to fine: a later label finer than an earlier one is what failoverPriority
# is for; a later one coarser than an earlier one is decided by it.
TOPOLOGY_RANK = {
    names.NETWORK: 0,
    names.CLUSTER: 0,
    names.REGION: 1,
    names.ZONE: 2,
    names.SUBZONE: 3,
    names.HOSTNAME: 4,
}


@dataclass(frozen=True)
class Finding:
    """One lint finding. `check` is a stable id; `subject` names the object."""

    check: str
    subject: str
    reason: str
    rule: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "subject": self.subject,
            "reason": self.reason,
            "rule": self.rule,
            "fix": self.fix,
        }


def _lb(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    policy = spec.get("trafficPolicy") or {}
    lb = (policy.get("loadBalancer") or {}).get("localityLbSetting")
    return lb if isinstance(lb, Mapping) else {}


def _outlier(spec: Mapping[str, Any]) -> Mapping[str, Any] | None:
    raw = (spec.get("trafficPolicy") or {}).get("outlierDetection")
    return raw if isinstance(raw, Mapping) else None


def priority_order(subject: str, spec: Mapping[str, Any]) -> list[Finding]:
    """A failoverPriority label coarser than an earlier one never decides anything:
    `[zone, region]` ranks another zone of the same region like another region."""
    labels = [
        str(label).split("=", 1)[0] for label in _lb(spec).get("failoverPriority") or []
    ]
    out = []
    for j, later in enumerate(labels):
        for earlier in labels[:j]:
            if TOPOLOGY_RANK.get(later, -1) < TOPOLOGY_RANK.get(earlier, -1) and (
                later in TOPOLOGY_RANK
            ):
                wanted = sorted(labels, key=lambda x: TOPOLOGY_RANK.get(x, 99))
                out.append(
                    Finding(
                        "failover-priority-order",
                        subject,
                        f"failoverPriority lists {later} after {earlier}: an "
                        f"endpoint whose {earlier} differs gets the lowest priority "
                        f"whatever its {later}, so {later} never decides (another "
                        f"{earlier.rsplit('/', 1)[-1]} of the same "
                        f"{later.rsplit('/', 1)[-1]} ranks like anywhere else)",
                        "istiod applyFailoverPriorityPerLocality (pilot/pkg/networking/"
                        "core/loadbalancer/loadbalancer.go): priority = N - j at the "
                        "first label j that differs; later labels are not compared",
                        f"order the labels coarse to fine: failoverPriority: "
                        f"[{', '.join(wanted)}]",
                    )
                )
                break
    return out


def failover_without_outlier(subject: str, spec: Mapping[str, Any]) -> list[Finding]:
    """failover/failoverPriority in a DR without outlierDetection do nothing."""
    lb = _lb(spec)
    used = [k for k in ("failover", "failoverPriority") if lb.get(k)]
    if not used or _outlier(spec) is not None or lb.get("enabled") is False:
        return []
    return [
        Finding(
            "failover-inactive",
            subject,
            f"{' and '.join(used)} set but {OUTLIER_PATH} is not: istiod turns "
            "locality failover off, every endpoint gets priority 0 and traffic "
            "spreads over all clusters",
            "istiod: enableFailover = forceFailover || outlierDetection != nil "
            "(cluster_traffic_policy.go, endpoint_builder.go); a DestinationRule's "
            "localityLbSetting never forces failover",
            f"add {OUTLIER_PATH} (e.g. consecutive5xxErrors: 1, interval: 1s, "
            "baseEjectionTime: 30s, maxEjectionPercent: 100)",
        )
    ]


def ejection_impossible(
    subject: str, spec: Mapping[str, Any], hosts: int
) -> list[Finding]:
    """maxEjectionPercent (unset: 10%) below 100/hosts: Envoy never ejects."""
    outlier = _outlier(spec)
    if outlier is None or hosts <= 0:
        return []
    raw = outlier.get("maxEjectionPercent")
    percent = raw if isinstance(raw, int) and raw > 0 else 10
    if 100 / hosts <= percent:
        return []
    shown = f"maxEjectionPercent {raw}" if raw else "maxEjectionPercent unset (10%)"
    needed = -(-100 // hosts)
    return [
        Finding(
            "ejection-impossible",
            subject,
            f"{shown} with {hosts} hosts today: ejecting one host would exceed it "
            f"(100 x 1 / {hosts} = {100 / hosts:.0f}%), so outlier detection never "
            "ejects and failing hosts keep their traffic",
            "Envoy ejectHost (source/common/upstream/outlier_detection_impl.cc): "
            "eject only if 100 x (ejected + 1) / hosts <= max_ejection_percent; "
            "since Envoy 1.28 no host is ejected regardless",
            f"set {OUTLIER_PATH}.maxEjectionPercent to at least {needed} "
            "(100 to allow failing over a whole locality)",
        )
    ]


def distribute_blackholes(
    subject: str, spec: Mapping[str, Any], localities: Sequence[Locality]
) -> list[Finding]:
    """A `distribute` entry whose `to` leaves out localities that have endpoints."""
    setting = parse_locality_setting(_lb(spec)) if _lb(spec) else None
    if setting is None or not setting.distribute:
        return []
    out = []
    for entry in setting.distribute:
        left = sorted(
            {
                str(loc)
                for loc in localities
                if not any(locality_match(loc, key) for key, _ in entry.to)
            }
        )
        if left:
            out.append(
                Finding(
                    "distribute-blackhole",
                    subject,
                    f"distribute from {entry.from_!r} sends nothing to "
                    f"{', '.join(left)}, which have endpoints: proxies there get no "
                    "traffic to them, even when every listed locality fails",
                    "istiod applyLocalityWeights (loadbalancer.go): locality groups "
                    "matching no `to` key get no endpoints",
                    f"list them in {LB_PATH}.distribute `to` (weights summing to 100)",
                )
            )
    return out


def shadowed_from(subject: str, spec: Mapping[str, Any]) -> list[Finding]:
    """A `from` every locality of which an earlier `from` already matches."""
    entries = _lb(spec).get("distribute") or []
    sources = [str(e.get("from", "")) for e in entries if isinstance(e, Mapping)]
    out = []
    for i, later in enumerate(sources):
        probe = _widest(later)
        earlier = next((e for e in sources[:i] if _covers(e, probe)), None)
        if earlier is not None:
            out.append(
                Finding(
                    "distribute-from-shadowed",
                    subject,
                    f"distribute from {later!r} never applies: the earlier "
                    f"{earlier!r} matches every proxy it would",
                    "istiod applyLocalityWeights: the first `from` matching the "
                    "proxy's locality wins (validateLocalities also rejects it)",
                    f"put {later!r} before {earlier!r}, or remove it",
                )
            )
    return out


def _widest(pattern: str) -> list[str]:
    return pattern.split("/")


def _covers(wide: str, narrow: list[str]) -> bool:
    """True when pattern `wide` matches every locality pattern `narrow` can."""
    parts = wide.split("/")
    for i, part in enumerate(parts):
        if part == "*":
            return True
        if i >= len(narrow) or narrow[i] in ("*", "") or narrow[i] != part:
            return False
    return True


def rule_findings(
    subject: str,
    spec: Mapping[str, Any],
    hosts: int,
    localities: Sequence[Locality],
) -> list[Finding]:
    """Every single-rule finding for a DR spec whose host has `hosts` endpoints in
    `localities` today."""
    return [
        *priority_order(subject, spec),
        *failover_without_outlier(subject, spec),
        *ejection_impossible(subject, spec, hosts),
        *distribute_blackholes(subject, spec, localities),
        *shadowed_from(subject, spec),
    ]
