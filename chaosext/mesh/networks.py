"""Split-horizon EDS: how an Envoy reaches endpoints on other networks (pure).

Rule for rule from istiod's `EndpointsByNetworkFilter` and `selectNetworkGateways`
([I] `pilot/pkg/xds/endpoints/ep_filters.go`), run on the locality groups
(`endpoint_builder.go` `generate`) before any locality priority is applied:

- No east-west gateway anywhere (`IsMultiNetworkEnabled` false): nothing changes,
  every endpoint is reached directly.
- Otherwise every endpoint weight is multiplied by the least common multiple of the
  gateway counts per network and per (network, cluster)
  (`NetworkGateways.GetLBWeightScaleFactor`, [I] `pilot/pkg/model/network.go`).
- An endpoint on the proxy's own network (or with no network on either side:
  `InNetwork`) stays as it is. So does one on a network with no gateway (sidecars
  and gateways: "directly reachable"); a waypoint drops it (ambient multi-network).
- An endpoint on another network with gateways is replaced: its weight is split
  evenly (integer division) over the gateways of its network *and cluster*, else
  over all gateways of its network (a waypoint uses only gateways with an HBONE
  port); within each locality group, one endpoint per
  gateway carries the summed weight. That gateway endpoint keeps the group's
  locality (so default locality priorities and `distribute` treat it as the remote
  locality) but its labels are only cluster and network (so any region or zone
  label in `failoverPriority` mismatches it).
- Sidecars and gateways send cross-network traffic only with Istio mTLS (SNI
  routing): a remote endpoint without it is dropped (`isMtlsEnabled`). A
  DestinationRule `trafficPolicy.tls.mode` decides when set (ISTIO_MUTUAL or not,
  `mtls_checker.go` `checkMtlsEnabled`); else the endpoint's `mtls`. A waypoint
  tunnels (double HBONE) and needs no mTLS.

The gateway itself routes each connection to an endpoint of its own network, by its
own Envoy's load balancing at its own locality (`hop`).
"""

import dataclasses
import math
from collections.abc import Sequence

from chaosext.mesh.types import (
    Endpoint,
    Locality,
    NetworkGateway,
    Proxy,
    ServiceConfig,
)

ISTIO_MUTUAL = "ISTIO_MUTUAL"


def same_network(a: str, b: str) -> bool:
    """`InNetwork`: equal, or either side has no network."""
    return not a or not b or a == b


def mtls_enabled(endpoint: Endpoint, destination_rule: object) -> bool:
    """Whether istiod would send Istio mTLS to `endpoint` (`checkMtlsEnabled`):
    the DestinationRule's `trafficPolicy.tls.mode` when set, else the endpoint's."""
    policy = (
        (destination_rule or {}).get("trafficPolicy")
        if isinstance(destination_rule, dict)
        else None
    )
    tls = (policy or {}).get("tls") if isinstance(policy, dict) else None
    mode = tls.get("mode") if isinstance(tls, dict) else None
    if mode:
        return str(mode) == ISTIO_MUTUAL
    return endpoint.mtls


def scale_factor(gateways: Sequence[NetworkGateway]) -> int:
    """The LCM of the gateway counts per network and per (network, cluster)."""
    counts: dict[tuple[str, str | None], int] = {}
    for gw in gateways:
        counts[(gw.network, None)] = counts.get((gw.network, None), 0) + 1
        counts[(gw.network, gw.cluster)] = counts.get((gw.network, gw.cluster), 0) + 1
    factor = 1
    for count in counts.values():
        factor = math.lcm(factor, count)
    return factor


def select_gateways(
    gateways: Sequence[NetworkGateway], network: str, cluster: str, hbone: bool = False
) -> list[NetworkGateway]:
    """`selectNetworkGateways`: the network's gateways in the endpoint's cluster,
    else all of the network's; for a waypoint (`hbone`) only those taking HBONE;
    sorted (by name) so the result is deterministic."""
    in_cluster = [g for g in gateways if g.network == network and g.cluster == cluster]
    chosen = in_cluster or [g for g in gateways if g.network == network]
    if hbone:
        chosen = [g for g in chosen if g.hbone]
    return sorted(chosen, key=lambda g: g.name)


def gateway_endpoint_name(gateway: NetworkGateway, locality: Locality) -> str:
    """The host name of `gateway`'s endpoint for one remote locality."""
    return f"{gateway.name}@{locality or '-'}"


def split_horizon(
    proxy: Proxy, service: ServiceConfig, endpoints: Sequence[Endpoint]
) -> tuple[list[Endpoint], list[Endpoint]]:
    """The endpoints `proxy` gets (its network's, unreachable-directly ones through
    gateway endpoints) and the remote ones dropped (no mTLS; waypoint, no gateway).
    """
    gateways = service.network_gateways
    if not gateways:
        return list(endpoints), []
    waypoint = proxy.kind == "waypoint"
    scale = scale_factor(gateways)
    kept: list[Endpoint] = []
    dropped: list[Endpoint] = []
    # (locality, gateway name) -> (gateway, weight, pods behind), in first-seen order
    merged: dict[tuple[Locality, str], tuple[NetworkGateway, int, list[Endpoint]]] = {}
    for ep in endpoints:
        weight = ep.lb_weight * scale
        chosen = select_gateways(gateways, ep.network, ep.cluster, waypoint)
        if same_network(ep.network, proxy.network) or (not chosen and not waypoint):
            kept.append(
                ep if weight == ep.weight else dataclasses.replace(ep, weight=weight)
            )
            continue
        if not chosen or (
            not waypoint and not mtls_enabled(ep, service.destination_rule)
        ):
            dropped.append(ep)
            continue
        share = weight // len(chosen)
        for gw in chosen:
            key = (ep.locality, gw.name)
            _, total, behind = merged.get(key, (gw, 0, []))
            merged[key] = (gw, total + share, [*behind, ep])
    for (locality, _), (gw, total, behind) in merged.items():
        kept.append(
            Endpoint(
                name=gateway_endpoint_name(gw, locality),
                cluster=gw.cluster,
                network=gw.network,
                locality=locality,
                weight=max(1, total),
                gateway=gw.name,
                behind=tuple(sorted(behind, key=lambda e: e.name)),
            )
        )
    return kept, dropped


def gateways_used(endpoints: Sequence[Endpoint]) -> list[str]:
    """Names of the gateways standing for some of `endpoints`, sorted."""
    return sorted({e.gateway for e in endpoints if e.gateway})


def gateway_named(service: ServiceConfig, name: str) -> NetworkGateway:
    """The east-west gateway `name` of `service`'s mesh."""
    for gw in service.network_gateways:
        if gw.name == name:
            return gw
    raise KeyError(name)


def hop(
    service: ServiceConfig, endpoints: Sequence[Endpoint], gateway: NetworkGateway
) -> tuple[Proxy, ServiceConfig, list[Endpoint]]:
    """What the east-west gateway's Envoy chooses from for this host: the proxy,
    its ServiceConfig (its own DestinationRule) and its own network's endpoints."""
    config = dataclasses.replace(
        service,
        destination_rule=gateway.destination_rule,
        network_gateways=(),
    )
    mine = [e for e in endpoints if same_network(e.network, gateway.network)]
    return gateway.proxy, config, mine
