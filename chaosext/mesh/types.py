"""Plain values the mesh model works on: who chooses, what it chooses from, the result.

Inputs (`Locality`, `Endpoint`, `Proxy`, `ServiceConfig`) are what the lab's data plane
knows; outputs (`Group`, `Outlier`, `Assignment`) are what istiod would push to the
proxy (its ClusterLoadAssignment plus the cluster knobs that matter for routing).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chaosext.mesh import names

REGION = names.REGION
ZONE = names.ZONE
SUBZONE = names.SUBZONE
CLUSTER = names.CLUSTER
NETWORK = names.NETWORK
HOSTNAME = names.HOSTNAME

PROXY_KINDS = ("gateway", "sidecar", "waypoint", "ztunnel")


@dataclass(frozen=True)
class Locality:
    """Region/zone/subzone from node labels. Cluster identity is not part of it."""

    region: str = ""
    zone: str = ""
    subzone: str = ""

    def __str__(self) -> str:
        """`region/zone/subzone`, cut at the first empty part (`LocalityToString`)."""
        out = self.region
        for part in (self.zone, self.subzone):
            if not part:
                break
            out += "/" + part
        return out


def _frozen(labels: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(labels))


def augmented_labels(
    labels: Mapping[str, str],
    locality: Locality,
    cluster: str,
    network: str,
    node: str,
) -> dict[str, str]:
    """Labels as istiod sees them for failoverPriority (`AugmentLabels`).

    Pod or proxy labels, then region, zone, subzone, cluster and node hostname
    (each only when non-empty, overriding the label), then the network only when no
    `topology.istio.io/network` label is set
    ([I] `pilot/pkg/serviceregistry/util/label/label.go:37-66`).
    """
    out = dict(labels)
    for key, value in (
        (REGION, locality.region),
        (ZONE, locality.zone),
        (SUBZONE, locality.subzone),
        (CLUSTER, cluster),
        (HOSTNAME, node),
    ):
        if value:
            out[key] = value
    if network and not out.get(NETWORK):
        out[NETWORK] = network
    return out


@dataclass(frozen=True)
class Endpoint:
    """One backend pod as the mesh knows it.

    `weight` below 1 counts as 1 (Istio's `GetLoadBalancingWeight`). `mtls` is
    False for a pod istiod would not send Istio mTLS to (its
    `security.istio.io/tlsMode` label is not `istio`): such a pod on another network
    is unreachable through an east-west gateway. `gateway` and `behind` are set
    only on the endpoints `networks.split_horizon` makes: an east-west gateway
    (`NetworkGateway.name`) standing for the remote pods `behind`. `ready=False`
    marks a pod that is not Ready: istiod drops it from EDS unless the Service sets a
    traffic distribution, in which case Envoy gets it as an unhealthy host (it counts
    in the health maths and never receives traffic outside panic). ztunnel never gets
    it. Terminating pods must not be passed at all (istiod always drops them).
    """

    name: str
    cluster: str
    network: str
    locality: Locality
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    weight: int = 1
    node: str = ""
    ready: bool = True
    mtls: bool = True
    gateway: str = ""
    behind: tuple["Endpoint", ...] = field(default=(), hash=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))

    @property
    def lb_weight(self) -> int:
        """The load-balancing weight istiod sends: `weight`, at least 1."""
        return max(1, int(self.weight))

    def mesh_labels(self) -> dict[str, str]:
        """Pod labels plus topology labels, as failoverPriority matches them.

        An east-west gateway endpoint (`gateway` set) carries only its cluster and
        network (`AugmentLabels(nil, gw.Cluster, "", "", gw.Network)`,
        [I] `pilot/pkg/xds/endpoints/ep_filters.go`): no region, zone or node.
        """
        if self.gateway:
            return augmented_labels({}, Locality(), self.cluster, self.network, "")
        return augmented_labels(
            self.labels, self.locality, self.cluster, self.network, self.node
        )


@dataclass(frozen=True)
class NetworkGateway:
    """An east-west gateway: how proxies of other networks reach `network`.

    istiod's registry gateway (a Service labelled `topology.istio.io/network` with a
    load-balancer address, [I] `pilot/pkg/model/network.go`), in `cluster`. `proxy`
    is its Envoy where it runs (its pod's locality); `destination_rule` the
    DestinationRule spec istiod's lookup gives that Envoy for the host (None: none).
    The gateway routes each connection (by SNI) to an endpoint of its own network
    only (`ISTIO_META_REQUESTED_NETWORK_VIEW`), as that Envoy's own load balancer
    chooses.
    """

    network: str
    cluster: str
    name: str
    proxy: "Proxy"
    destination_rule: Mapping[str, Any] | None = field(default=None, hash=False)
    hbone: bool = True
    """It takes HBONE (its Service has port 15008): waypoints use only these."""


@dataclass(frozen=True)
class Proxy:
    """The proxy that chooses: an ingress gateway, a sidecar, a waypoint or ztunnel.

    For `ztunnel` the fields describe the *source workload* (the client pod): ztunnel
    ranks endpoints against the workload that opened the connection, not against itself.
    `namespace` is where the proxy runs: it decides which DestinationRule applies
    (`lookup.destination_rule`); "" when unknown.
    """

    kind: str
    name: str
    cluster: str
    network: str
    locality: Locality
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    node: str = ""
    namespace: str = ""

    def __post_init__(self) -> None:
        if self.kind not in PROXY_KINDS:
            raise ValueError(
                f"Proxy {self.name!r}: kind must be one of {', '.join(PROXY_KINDS)}; "
                f"got {self.kind!r}"
            )
        object.__setattr__(self, "labels", _frozen(self.labels))

    @property
    def is_envoy(self) -> bool:
        """True for gateways, sidecars and waypoints (Envoy); False for ztunnel."""
        return self.kind != "ztunnel"

    def mesh_labels(self) -> dict[str, str]:
        """Proxy labels augmented with its topology (istiod `ads.go:334-340`)."""
        return augmented_labels(
            self.labels, self.locality, self.cluster, self.network, self.node
        )


def _mesh_default() -> Mapping[str, Any]:
    return dict(names.MESH_LOCALITY_LB_DEFAULT)


@dataclass(frozen=True)
class ServiceConfig:
    """What decides routing for one host.

    `destination_rule` is the DestinationRule's `spec` as parsed YAML (verbatim from
    the guides). `traffic_distribution` is the Service's `spec.trafficDistribution` or
    its `networking.istio.io/traffic-distribution` annotation (`PreferClose`,
    `PreferSameZone`, `PreferSameNode`; `PreferNetwork` is a vendor value, see
    `settings.traffic_distribution`). `mesh_locality_lb` is the mesh-wide
    `localityLbSetting` (Istio default `{enabled: true}`). `network_gateways` are
    the mesh's east-west gateways (none: every endpoint is reached directly, as
    istiod does when multi-network is not configured).
    """

    host: str
    destination_rule: Mapping[str, Any] | None = field(default=None, hash=False)
    traffic_distribution: str | None = None
    mesh_locality_lb: Mapping[str, Any] = field(
        default_factory=_mesh_default, hash=False
    )
    network_gateways: tuple[NetworkGateway, ...] = field(default=(), hash=False)


@dataclass(frozen=True)
class Distribute:
    """One `distribute` entry: the proxy localities it applies to, and weights."""

    from_: str
    to: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Failover:
    """One `failover` entry: from region -> preferred next region."""

    from_: str
    to: str


@dataclass(frozen=True)
class LocalitySetting:
    """A parsed `localityLbSetting` (DestinationRule, traffic distribution or mesh)."""

    enabled: bool | None = None
    distribute: tuple[Distribute, ...] = ()
    failover: tuple[Failover, ...] = ()
    failover_priority: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outlier:
    """Envoy outlier detection as Istio configures it from `outlierDetection`.

    Thresholds of 0 mean the detector never ejects for that reason. Times in seconds.
    """

    consecutive_5xx: int = 5
    consecutive_gateway: int = 0
    split_local_origin: bool = False
    consecutive_local_origin: int = 5
    interval: float = 10.0
    base_ejection_time: float = 30.0
    max_ejection_time: float = 300.0
    max_ejection_percent: float = 10.0
    min_health_percent: float = 0.0


@dataclass(frozen=True)
class Group:
    """One LocalityLbEndpoints: a locality's endpoints at one priority, its weight."""

    priority: int
    locality: Locality
    endpoints: tuple[Endpoint, ...]
    weight: int


@dataclass(frozen=True)
class Assignment:
    """What one proxy gets for one host.

    `mode` is `"envoy"` (gateway, sidecar, waypoint) or `"ztunnel"`. For Envoy,
    `groups` is istiod's ClusterLoadAssignment after priorities and weights;
    `blackholed` are endpoints in localities that a matching `distribute` lists in no
    `to` (they get no traffic, ever); `dropped` are not-ready endpoints istiod does not
    send, and remote-network pods it cannot send through an east-west gateway (no
    mTLS; for a waypoint, no gateway). With east-west gateways, the groups hold one
    gateway endpoint per gateway and remote locality (`networks.split_horizon`) in
    place of the remote pods, and `hops` says how each gateway chooses. For ztunnel,
    groups are ranked sets: priority 0 is the best-ranked set, the only one that
    receives connections (no spill).
    """

    proxy: Proxy
    mode: str
    groups: tuple[Group, ...]
    setting_source: str
    setting: LocalitySetting | None
    failover_enabled: bool
    locality_weighted: bool
    panic_threshold: float
    outlier: Outlier | None
    blackholed: tuple[Endpoint, ...] = ()
    dropped: tuple[Endpoint, ...] = ()
    routing_preference: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    hops: Mapping[str, "Assignment"] = field(
        default_factory=dict, hash=False, compare=False
    )
    """East-west gateway name -> what that gateway's Envoy chooses from (its own
    assignment over its network's endpoints), for every gateway endpoint here."""

    def endpoints(self) -> tuple[Endpoint, ...]:
        """Every endpoint the proxy knows as a host, in priority order."""
        return tuple(ep for group in self.groups for ep in group.endpoints)

    def priorities(self) -> list[list[Group]]:
        """Groups per priority, index == priority (no gaps after compaction)."""
        count = 1 + max((g.priority for g in self.groups), default=-1)
        out: list[list[Group]] = [[] for _ in range(count)]
        for group in self.groups:
            out[group.priority].append(group)
        return out
