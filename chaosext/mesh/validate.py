"""`validate_destination_rule()`: what istiod's validation says about a DR spec.

Errors follow [I] `pkg/config/validation/agent/validation.go`
(`ValidateLocalityLbSetting`, `validateLocalities`, `ValidateDuration`) and
`pkg/config/validation/validation.go` (`validateOutlierDetection`,
`validateTrafficPolicy`). Messages starting with
`warning:` are accepted by Istio but worth telling the user; the rest Istio rejects.
"""

from collections.abc import Mapping
from typing import Any

from chaosext.mesh.durations import parse_duration
from chaosext.mesh.settings import LB_PATH, OUTLIER_PATH
from chaosext.mesh.types import REGION, SUBZONE, ZONE

WARNING = "warning: "
_LB_SIMPLE = {
    "UNSPECIFIED",
    "LEAST_CONN",
    "RANDOM",
    "PASSTHROUGH",
    "ROUND_ROBIN",
    "LEAST_REQUEST",
}
_DURATIONS = (
    f"{OUTLIER_PATH}.interval",
    f"{OUTLIER_PATH}.baseEjectionTime",
    "trafficPolicy.connectionPool.tcp.connectTimeout",
    "trafficPolicy.connectionPool.tcp.maxConnectionDuration",
    "trafficPolicy.connectionPool.tcp.idleTimeout",
    "trafficPolicy.connectionPool.http.idleTimeout",
)


def _get(spec: Mapping[str, Any], path: str) -> Any:
    node: Any = spec
    for key in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _duration_errors(spec: Mapping[str, Any]) -> list[str]:
    out = []
    for path in _DURATIONS:
        value = _get(spec, path)
        if value is None:
            continue
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            out.append(f"{path}: {exc}")
            continue
        if seconds < 0.001 - 1e-12:
            out.append(f"{path}: {value!r} is too short (at least 1ms)")
        elif abs(seconds * 1000 - round(seconds * 1000)) > 1e-6:
            out.append(f"{path}: {value!r} is finer than 1ms (ms precision only)")
    return out


def _outlier_errors(spec: Mapping[str, Any]) -> list[str]:
    outlier = _get(spec, OUTLIER_PATH)
    if outlier is None:
        return []
    if not isinstance(outlier, Mapping):
        return [f"{OUTLIER_PATH}: expected a mapping"]
    out = []
    for key in (
        "consecutive5xxErrors",
        "consecutiveGatewayErrors",
        "consecutiveLocalOriginFailures",
    ):
        value = outlier.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            out.append(f"{OUTLIER_PATH}.{key}: {value!r} is not a whole number >= 0")
    for key in ("maxEjectionPercent", "minHealthPercent"):
        value = outlier.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= 100
        ):
            out.append(f"{OUTLIER_PATH}.{key}: {value!r} is not a percentage 0..100")
    if outlier.get("consecutiveErrors"):
        out.append(
            f"{WARNING}{OUTLIER_PATH}.consecutiveErrors is deprecated: use "
            "consecutive5xxErrors or consecutiveGatewayErrors"
        )
    if outlier.get("consecutiveLocalOriginFailures") and not outlier.get(
        "splitExternalLocalOriginErrors"
    ):
        out.append(
            f"{OUTLIER_PATH}.consecutiveLocalOriginFailures needs "
            "splitExternalLocalOriginErrors: true"
        )
    return out


def _locality_syntax(locality: str) -> str | None:
    stars = locality.count("*")
    if stars and (stars > 1 or not locality.endswith("*")):
        return f"{locality!r}: at most one '*' wildcard, and only at the end"
    parts = locality.split("/", 2)
    if any(not part for part in parts):
        return f"{locality!r}: empty region/zone/subzone"
    return None


def _overlaps(localities: list[str]) -> list[str]:
    """Pairs where one locality pattern covers another, in either order: `to` keys
    (istiod validates them in Go map order, which is random, so a pair that
    overlaps either way is refused sometimes; here always)."""

    def covers(wide: str, narrow: str) -> bool:
        w, n = wide.split("/", 2), narrow.split("/", 2)
        for i, part in enumerate(w):
            if part == "*":
                return True
            if i >= len(n) or n[i] != part:
                return False
        return True

    out = []
    for i, first in enumerate(localities):
        for second in localities[i + 1 :]:
            if covers(first, second) or covers(second, first):
                out.append(f"{second!r} overlaps {first!r}")
    return out


def _claims(locality: str) -> tuple[str, ...]:
    """The index keys `validateLocalities` records for one entry."""
    parts = locality.split("/", 2)
    if len(parts) == 1:
        return (parts[0], f"{parts[0]}/*")
    if len(parts) == 2:
        return (parts[0], f"{parts[0]}/{parts[1]}", f"{parts[0]}/{parts[1]}/*")
    return (parts[0], f"{parts[0]}/{parts[1]}", "/".join(parts))


def _collides(earlier: str, later: str) -> bool:
    """True when `validateLocalities` refuses `later` after `earlier`.

    A port of its index checks: anything after `*`; a region after anything in that
    region; `r/z` (or `r/*`) after `r`, `r/*` or `r/z...`; `r/z/s` after `r`, `r/*`,
    `r/z`, `r/z/*` or itself. So `[r1/r1-a/*, r1/*, *]` is valid (first match wins at
    run time) and `[r1/*, r1/r1-a/*]` is not.
    """
    if earlier == "*":
        return True
    seen = _claims(earlier)
    parts = later.split("/", 2)
    region = parts[0]
    if len(parts) == 1:
        return region in seen
    if f"{region}/*" in seen:
        return True
    if len(parts) == 2:
        return f"{region}/{parts[1]}" in seen
    zone = f"{region}/{parts[1]}"
    return f"{zone}/*" in seen or later in seen


def _from_overlaps(sources: list[str]) -> list[str]:
    """Each `from` that an earlier one makes invalid ([I] `pkg/config/validation/
    agent/validation.go` `validateLocalities`), named with the first such earlier."""
    out = []
    for i, later in enumerate(sources):
        earlier = next((e for e in sources[:i] if _collides(e, later)), None)
        if earlier is not None:
            out.append(f"{later!r} overlaps {earlier!r}")
    return out


def _distribute_errors(lb: Mapping[str, Any]) -> list[str]:
    out = []
    rules = lb.get("distribute") or []
    sources: list[str] = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        where = f"{LB_PATH}.distribute[{i}]"
        if not isinstance(rule, Mapping):
            out.append(f"{where}: expected a mapping with from and to")
            continue
        source = rule.get("from")
        if not isinstance(source, str) or not source:
            out.append(f"{where}.from: required (a locality like region/zone)")
        else:
            sources.append(source)
        to = rule.get("to")
        if not isinstance(to, Mapping) or not to:
            out.append(f"{where}.to: required (locality: weight pairs)")
            continue
        total = 0
        for key, weight in to.items():
            if isinstance(weight, bool) or not isinstance(weight, int):
                out.append(f"{where}.to[{key!r}]: weight must be an integer")
                continue
            if not 1 <= weight <= 100:
                out.append(f"{where}.to[{key!r}]: weight {weight} is not in [1, 100]")
            total += weight
        if total != 100:
            out.append(f"{where}.to: weights sum to {total}, not 100")
        keys = [str(k) for k in to]
        out += [f"{where}.to: {m}" for k in keys if (m := _locality_syntax(k))]
        out += [f"{where}.to: {m}" for m in _overlaps(keys)]
    out += [
        f"{LB_PATH}.distribute: from {m}" for s in sources if (m := _locality_syntax(s))
    ]
    valid = [s for s in sources if _locality_syntax(s) is None]
    out += [f"{LB_PATH}.distribute: from {m}" for m in _from_overlaps(valid)]
    return out


def _failover_errors(lb: Mapping[str, Any]) -> list[str]:
    out = []
    entries = lb.get("failover") or []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        where = f"{LB_PATH}.failover[{i}]"
        if not isinstance(entry, Mapping):
            out.append(f"{where}: expected a mapping with from and to")
            continue
        src, dst = str(entry.get("from", "")), str(entry.get("to", ""))
        if src == dst:
            out.append(f"{where}: from and to are both {src!r} (must differ)")
        if "/" in src or "/" in dst:
            out.append(f"{where}: from/to must be regions only (no '/')")
        if "*" in src or "*" in dst:
            out.append(f"{where}: from/to must not contain the '*' wildcard")
        if src in seen:
            out.append(
                f"{WARNING}{where}.from: {src!r} repeats failover[{seen[src]}]; "
                "only the first applies"
            )
        seen.setdefault(src, i)
    return out


def _locality_lb_errors(spec: Mapping[str, Any]) -> list[str]:
    lb = _get(spec, LB_PATH)
    if lb is None:
        return []
    if not isinstance(lb, Mapping):
        return [f"{LB_PATH}: expected a mapping"]
    enabled = lb.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        return [f"{LB_PATH}.enabled: expected true or false, got {enabled!r}"]
    distribute, failover = lb.get("distribute"), lb.get("failover")
    priority = lb.get("failoverPriority") or []
    if distribute and failover:
        return [f"{LB_PATH}: distribute and failover can not be set together"]
    out = []
    if failover and priority:
        for i, name in enumerate(priority):
            if str(name).split("=")[0] in (REGION, ZONE, SUBZONE):
                out.append(
                    f"{LB_PATH}.failoverPriority[{i}]: topology label {name!r} can not "
                    "be used together with failover"
                )
    if distribute and priority:
        out.append(
            f"{WARNING}{LB_PATH}: distribute and failoverPriority are both set; "
            "distribute wins and failoverPriority is ignored"
        )
    if (failover or priority) and _get(spec, OUTLIER_PATH) is None:
        out.append(
            f"{WARNING}{OUTLIER_PATH}: not set, so failover/failoverPriority does "
            "nothing (Istio fails over only with outlier detection)"
        )
    return out + _distribute_errors(lb) + _failover_errors(lb)


def validate_destination_rule(
    spec: Mapping[str, Any], *, warnings: bool = True
) -> list[str]:
    """Messages about a DestinationRule `spec`, each naming the field; [] when clean.

    Errors are what istiod rejects (bad weights, overlapping localities, distribute
    with failover, bad failover regions, bad durations or percentages...). Messages
    starting with `warning:` are accepted by Istio but change nothing or surprise
    (failover without outlierDetection; distribute with failoverPriority); pass
    `warnings=False` to get errors only.
    """
    if not isinstance(spec, Mapping):
        return ["spec: expected a mapping (the DestinationRule's spec)"]
    if "spec" in spec and "apiVersion" in spec:
        return ["spec: got a whole DestinationRule object; pass its `spec`"]
    out = []
    if not spec.get("host"):
        out.append("host: required")
    policy = spec.get("trafficPolicy")
    if policy is not None and not isinstance(policy, Mapping):
        out.append("trafficPolicy: expected a mapping")
        policy = None
    if policy is not None:
        if not policy:
            out.append("trafficPolicy: must have at least one field")
        simple = _get(spec, "trafficPolicy.loadBalancer.simple")
        if simple is not None and simple not in _LB_SIMPLE:
            out.append(f"trafficPolicy.loadBalancer.simple: unknown {simple!r}")
        out += (
            _locality_lb_errors(spec) + _outlier_errors(spec) + _duration_errors(spec)
        )
    if not warnings:
        out = [m for m in out if not m.startswith(WARNING)]
    return out
