"""Which locality setting applies, and the cluster knobs istiod derives from a DR.

Follows istiod's `GetLocalityLbSetting` ([I] `pilot/pkg/networking/core/loadbalancer/
loadbalancer.go:39-83`), `applyOutlierDetection` and `applyLoadBalancer`
([I] `pilot/pkg/networking/core/cluster_traffic_policy.go`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaosext.mesh.durations import parse_duration
from chaosext.mesh.types import (
    HOSTNAME,
    NETWORK,
    REGION,
    SUBZONE,
    ZONE,
    Distribute,
    Failover,
    LocalitySetting,
    Outlier,
    ServiceConfig,
)

LB_PATH = "trafficPolicy.loadBalancer.localityLbSetting"
OUTLIER_PATH = "trafficPolicy.outlierDetection"

PREFER_SAME_ZONE = "PreferSameZone"
PREFER_SAME_NODE = "PreferSameNode"
PREFER_NETWORK = "PreferNetwork"

_TRAFFIC_DISTRIBUTIONS = {
    "preferclose": PREFER_SAME_ZONE,
    "prefersamezone": PREFER_SAME_ZONE,
    "prefersamenode": PREFER_SAME_NODE,
    "prefernetwork": PREFER_NETWORK,
}

# failoverPriority istiod synthesises from a traffic distribution (1.30).
TRAFFIC_DISTRIBUTION_PRIORITY: dict[str, tuple[str, ...]] = {
    PREFER_SAME_ZONE: (NETWORK, REGION, ZONE),
    PREFER_SAME_NODE: (NETWORK, REGION, ZONE, SUBZONE, HOSTNAME),
    PREFER_NETWORK: (NETWORK,),
}

ENVOY_DEFAULT_PANIC_THRESHOLD = 50.0


def traffic_distribution(value: str | None) -> str | None:
    """The canonical traffic distribution, or None when unset or unknown.

    Matched case-insensitively like istiod's annotation parsing; `PreferClose` is an
    alias of `PreferSameZone` (`model.GetTrafficDistribution`). `PreferNetwork` is not
    an OSS Istio value (absent from istio/istio, istio/api and ztunnel); guide 001's
    vendor mesh documents it as "prefer the local network", and the model treats it as
    failoverPriority `[topology.istio.io/network]`. OSS Istio would ignore it.
    """
    if not value:
        return None
    return _TRAFFIC_DISTRIBUTIONS.get(value.strip().lower())


def supports_unhealthy_endpoints(service: ServiceConfig) -> bool:
    """True when istiod sends not-ready endpoints as unhealthy (a traffic distribution
    is set: `model.Service.SupportsUnhealthyEndpoints`). Also forces panic threshold 0.
    """
    return traffic_distribution(service.traffic_distribution) is not None


@dataclass(frozen=True)
class AppliedSetting:
    """The locality setting that applies, where it came from, and forceFailover."""

    setting: LocalitySetting | None
    source: str
    force_failover: bool = False


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: expected a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValueError(f"{path}: expected a list, got {type(value).__name__}")
    return list(value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected text, got {value!r}")
    return value


def destination_rule_part(spec: Mapping[str, Any] | None, name: str) -> Any:
    """`trafficPolicy.<name>` of a DR spec (`loadBalancer`, `outlierDetection`...)."""
    if spec is None:
        return None
    policy = _mapping(spec.get("trafficPolicy"), "trafficPolicy")
    return policy.get(name)


def parse_locality_setting(raw: Any, path: str = LB_PATH) -> LocalitySetting:
    """A `localityLbSetting` mapping parsed; ValueError names a bad field."""
    data = _mapping(raw, path)
    enabled = data.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValueError(f"{path}.enabled: expected true or false, got {enabled!r}")
    distribute: list[Distribute] = []
    for i, item in enumerate(_list(data.get("distribute"), f"{path}.distribute")):
        where = f"{path}.distribute[{i}]"
        entry = _mapping(item, where)
        to = _mapping(entry.get("to"), f"{where}.to")
        weights: list[tuple[str, int]] = []
        for key, weight in to.items():
            if isinstance(weight, bool) or not isinstance(weight, int):
                raise ValueError(f"{where}.to[{key!r}]: weight must be an integer")
            weights.append((str(key), weight))
        distribute.append(
            Distribute(_text(entry.get("from", ""), f"{where}.from"), tuple(weights))
        )
    failover: list[Failover] = []
    for i, item in enumerate(_list(data.get("failover"), f"{path}.failover")):
        where = f"{path}.failover[{i}]"
        entry = _mapping(item, where)
        failover.append(
            Failover(
                _text(entry.get("from", ""), f"{where}.from"),
                _text(entry.get("to", ""), f"{where}.to"),
            )
        )
    priority = tuple(
        _text(label, f"{path}.failoverPriority[{i}]")
        for i, label in enumerate(
            _list(data.get("failoverPriority"), f"{path}.failoverPriority")
        )
    )
    return LocalitySetting(enabled, tuple(distribute), tuple(failover), priority)


def applicable_setting(service: ServiceConfig) -> AppliedSetting:
    """istiod's `GetLocalityLbSetting` (1.30).

    1. The DR's `localityLbSetting`, if present, is used whole; `enabled: false` turns
       locality LB off entirely (no traffic distribution, no mesh default).
    2. Else a Service traffic distribution: PreferClose/PreferSameZone ->
       failoverPriority [network, region, zone]; PreferSameNode adds subzone and
       hostname; both with forceFailover (no outlierDetection needed).
    3. Else the mesh `localityLbSetting` (default `{enabled: true}`); `enabled: false`
       -> off.
    """
    lb = _mapping(
        destination_rule_part(service.destination_rule, "loadBalancer"),
        "trafficPolicy.loadBalancer",
    )
    if lb.get("localityLbSetting") is not None:
        setting = parse_locality_setting(lb["localityLbSetting"])
        if setting.enabled is False:
            return AppliedSetting(None, "destination-rule (enabled: false)")
        return AppliedSetting(setting, "destination-rule")
    distribution = traffic_distribution(service.traffic_distribution)
    if distribution is not None:
        labels = TRAFFIC_DISTRIBUTION_PRIORITY[distribution]
        setting = LocalitySetting(enabled=True, failover_priority=labels)
        source = f"traffic-distribution {service.traffic_distribution}"
        return AppliedSetting(setting, source, True)
    mesh = parse_locality_setting(service.mesh_locality_lb, "mesh localityLbSetting")
    if mesh.enabled is False:
        return AppliedSetting(None, "mesh (enabled: false)")
    return AppliedSetting(mesh, "mesh")


def _count(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{OUTLIER_PATH}.{key}: expected a whole number >= 0")
    return value


def _seconds(data: Mapping[str, Any], key: str, default: float) -> float:
    value = data.get(key)
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{OUTLIER_PATH}.{key}: {exc}") from None


def parse_outlier(service: ServiceConfig) -> Outlier | None:
    """The DR's outlierDetection as Envoy runs it, or None when the DR has none.

    Istio `applyOutlierDetection`: consecutive5xxErrors unset -> Envoy default 5, 0 ->
    off; consecutiveGatewayErrors unset -> counted but not enforced (off); interval 10s
    and baseEjectionTime 30s by default; maxEjectionPercent only if > 0, else Envoy's
    10%; max_ejection_time is never set -> max(300s, base). With
    splitExternalLocalOriginErrors, connect failures count separately
    (consecutiveLocalOriginFailures, Envoy default 5) and not as 503.
    """
    raw = destination_rule_part(service.destination_rule, "outlierDetection")
    if raw is None:
        return None
    data = _mapping(raw, OUTLIER_PATH)
    base = _seconds(data, "baseEjectionTime", 30.0)
    max_percent = _count(data, "maxEjectionPercent", 0)
    return Outlier(
        consecutive_5xx=_count(data, "consecutive5xxErrors", 5),
        consecutive_gateway=_count(data, "consecutiveGatewayErrors", 0),
        split_local_origin=bool(data.get("splitExternalLocalOriginErrors", False)),
        consecutive_local_origin=_count(data, "consecutiveLocalOriginFailures", 0) or 5,
        interval=_seconds(data, "interval", 10.0),
        base_ejection_time=base,
        max_ejection_time=max(300.0, base),
        max_ejection_percent=float(max_percent or 10),
        min_health_percent=float(_count(data, "minHealthPercent", 0)),
    )


def panic_threshold(service: ServiceConfig, outlier: Outlier | None) -> float:
    """Envoy `healthy_panic_threshold` (percent) for this host's cluster.

    Read in istiod's `applyOutlierDetection` / `applyLoadBalancer`
    (cluster_traffic_policy.go): only when outlierDetection is present does istiod set
    the threshold, to `minHealthPercent` (default 0: panic off). Without
    outlierDetection it stays unset, so Envoy's default 50% applies (LoadBalancerBase:
    `PROTOBUF_PERCENT_TO_ROUNDED_INTEGER_OR_DEFAULT(..., healthy_panic_threshold, 100,
    50)`). Either way it is forced to 0 when the service sends unhealthy endpoints
    (a traffic distribution is set).
    """
    if supports_unhealthy_endpoints(service):
        return 0.0
    if outlier is not None:
        return outlier.min_health_percent
    return ENVOY_DEFAULT_PANIC_THRESHOLD
