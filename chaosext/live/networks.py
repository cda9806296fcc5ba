"""Can a client reach a cluster's endpoints across networks? East-west gateways,
read from a `MeshState` (pure: no API call).

istiod knows a network's gateways as the Services labelled
`topology.istio.io/network=<network>` (Istio `pilot/pkg/model/network.go`: the
east-west gateway of guide 001, "Multicluster zone and region failover", Gloo
Mesh/Solo.io docs, step 1). A proxy on another network reaches that network's
endpoints only through one of them, so when none has a ready pod behind it,
those endpoints are unreachable from every other network: connect failures
(Envoy), connection resets (ztunnel). A proxy on the same network reaches them
directly, gateway or not.

`reach()` says which, for one client and one cluster of a host's endpoints, with
a sentence a drill's journal can carry.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from chaosext.live import choosers, explain
from chaosext.live.state import MeshState
from chaosext.mesh import kube, names

__all__ = ["Gateway", "Reach", "network_gateways", "reach"]


@dataclass(frozen=True)
class Gateway:
    """A network gateway istiod knows, and how many ready pods stand behind it."""

    context: str
    namespace: str
    name: str
    ready: int

    def describe(self) -> str:
        return f"{self.namespace}/{self.name} in {self.context}"


@dataclass(frozen=True)
class Reach:
    """Whether `client` reaches the ready endpoints of `host` in `target`."""

    client_context: str
    client_pod: str
    client_network: str
    host: str
    target: str
    network: str
    endpoints: int
    """Ready endpoints of `host` in `target`."""
    gateways: tuple[Gateway, ...]
    reachable: bool
    why: str

    def to_json(self) -> dict[str, object]:
        return {
            "client": {
                "context": self.client_context,
                "pod": self.client_pod,
                "network": self.client_network,
            },
            "host": self.host,
            "target": self.target,
            "network": self.network,
            "endpoints": self.endpoints,
            "gateways": [g.__dict__ for g in self.gateways],
            "reachable": self.reachable,
            "why": self.why,
        }


def network_gateways(state: MeshState, network: str) -> list[Gateway]:
    """Every gateway Service of `network` in any context read (labelled with it and
    given a load-balancer address: `kube.gateway_addresses`, the rule the lab and
    the predictions use), with the number of live, ready pods it selects there."""
    found = []
    for context, objects in state.clusters.items():
        for service in objects.services:
            if kube.gateway_network(service) != network:
                continue  # another network's, or no address for istiod to send to
            meta = service["metadata"]
            ready = kube.ready_behind(service, objects.pods)
            found.append(Gateway(context, meta["namespace"], meta["name"], ready))
    return found


def _names(gateways: Sequence[Gateway]) -> str:
    return ", ".join(g.describe() for g in gateways)


def reach(
    state: MeshState,
    client: str,
    url: str,
    target: str,
    *,
    context: str,
    namespace: str = "",
) -> Reach:
    """Whether `client` (pod or `deploy/NAME` in `context`) reaches the endpoints
    that `url`'s host has in context `target`. StateError names what is unknown."""
    _, pod = explain.find_client(state, client, context, namespace)
    host = state.resolve_host(url or "", pod["metadata"]["namespace"])
    proxy = choosers.choose(state, context, pod, host).proxy  # who connects
    where = f"{proxy.name} in {context}, network {proxy.network or '(none)'}"
    network = state.cluster(target).network
    ready = sum(1 for e in state.endpoints(host) if e.cluster == target and e.ready)
    gateways = tuple(network_gateways(state, network)) if network else ()
    up = [g for g in gateways if g.ready]

    def result(reachable: bool, why: str) -> Reach:
        return Reach(
            context,
            pod["metadata"]["name"],
            proxy.network,
            host,
            target,
            network,
            ready,
            gateways,
            reachable,
            why,
        )

    ends = f"{target}'s {ready} ready endpoints of {host}"
    if not ready:
        return result(False, f"{target} has no ready endpoint of {host}")
    if network == proxy.network:
        return result(
            True,
            f"{ends} are on the network of {where}: reached directly, no east-west"
            " gateway in the way",
        )
    if not gateways:
        return result(
            False,
            f"{ends} are on network {network or '(none)'} and no Service is labelled"
            f" {names.NETWORK}={network} with a load-balancer address: istiod knows"
            " no east-west gateway to it,"
            f" so {where} cannot reach them",
        )
    if not up:
        return result(
            False,
            f"{ends} are on network {network}, behind its east-west gateway"
            f" {_names(gateways)}, which has no ready replica: {where} cannot reach"
            " them",
        )
    return result(
        True,
        f"{ends} are on network {network}, reached from {where} through its"
        f" east-west gateway {_names(up)} ({sum(g.ready for g in up)} ready)",
    )
