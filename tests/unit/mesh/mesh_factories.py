"""Builders and the guides' DestinationRules (verbatim) for the mesh model tests."""

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from chaosext.mesh import Endpoint, Locality, Proxy, ServiceConfig

# Guide 000 step 3, `spec:` verbatim.
GUIDE_000_DR: dict[str, Any] = yaml.safe_load(
    """
host: hello-world.default.svc.cluster.local
trafficPolicy:
  connectionPool:
    http:
      http2MaxRequests: 100
  outlierDetection:
    consecutive5xxErrors: 1
    interval: 1s
    baseEjectionTime: 30s
    maxEjectionPercent: 100
  loadBalancer:
    localityLbSetting:
      enabled: true
      distribute:
      - from: europe-west1
        to:
          europe-west1: 50
          us-central1: 50
      - from: us-central1
        to:
          us-central1: 50
          europe-west1: 50
"""
)

# Guide 001 step 6, `spec:` verbatim.
GUIDE_001_WAYPOINT_DR: dict[str, Any] = yaml.safe_load(
    """
host: in-ambient.httpbin.mesh.internal
trafficPolicy:
  loadBalancer:
    localityLbSetting:
      enabled: true
      failoverPriority:
      - topology.kubernetes.io/zone
      - topology.kubernetes.io/region
    simple: ROUND_ROBIN
  outlierDetection:
    consecutive5xxErrors: 5
    interval: 10s
    baseEjectionTime: 3m
    maxEjectionPercent: 50
"""
)

OUTLIER_ONLY_DR: dict[str, Any] = {
    "host": "h",
    "trafficPolicy": {"outlierDetection": {}},
}


def loc(text: str) -> Locality:
    """`region/zone/subzone` text as a Locality."""
    parts = ([*text.split("/"), "", "", ""])[:3]
    return Locality(*parts)


def ep(
    name: str,
    where: str = "r1/z1",
    cluster: str = "c1",
    network: str = "n1",
    **kw: Any,
) -> Endpoint:
    """An endpoint named `name` at locality `where`."""
    return Endpoint(name, cluster, network, loc(where), **kw)


def eps(
    prefix: str, count: int, where: str, cluster: str = "c1", **kw: Any
) -> list[Endpoint]:
    """`count` endpoints `prefix0..` at one locality."""
    return [ep(f"{prefix}{i}", where, cluster, **kw) for i in range(count)]


def proxy(
    kind: str = "sidecar",
    where: str = "r1/z1",
    cluster: str = "c1",
    network: str = "n1",
    **kw: Any,
) -> Proxy:
    """A proxy of `kind` at locality `where`."""
    return Proxy(kind, f"{kind}-0", cluster, network, loc(where), **kw)


def service(
    dr: Mapping[str, Any] | None = None,
    traffic_distribution: str | None = None,
    **kw: Any,
) -> ServiceConfig:
    """A ServiceConfig for host `h`."""
    return ServiceConfig("h", dr, traffic_distribution, **kw)


def dr_with(
    locality_lb: Mapping[str, Any] | None = None,
    outlier: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A DR spec with an optional localityLbSetting and outlierDetection."""
    policy: dict[str, Any] = {}
    if locality_lb is not None:
        policy["loadBalancer"] = {"localityLbSetting": dict(locality_lb)}
    if outlier is not None:
        policy["outlierDetection"] = dict(outlier)
    return {"host": "h", "trafficPolicy": policy}


def by_prefix(shares: Mapping[str, float], prefixes: Iterable[str]) -> dict[str, float]:
    """Shares summed per name prefix, rounded to 9 places."""
    return {
        p: round(sum(v for k, v in shares.items() if k.startswith(p)), 9)
        for p in prefixes
    }
