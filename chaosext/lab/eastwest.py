"""Which networks other networks can reach: through their east-west gateways only.

istiod knows a network's gateways as the Services labelled
`topology.istio.io/network=<network>` that have a load-balancer address
(`mesh.kube.gateway_addresses`, the one rule the routing model, the predictions
and the live reader use). A proxy on another network reaches that network's
endpoints only through one of them: Envoy (sidecar, gateway, waypoint) through
the gateway endpoints of split-horizon EDS (`mesh.networks`); ztunnel by the
workload's network gateway in WDS, and with none it refuses to send
cross-network traffic ([Z] `src/proxy/outbound.rs`
`build_request_through_gateway`: `NoValidDestination`). So a network is cut off
from every other network while none of its labelled gateway Services has a ready
pod behind it: connect failures (Envoy retries them elsewhere and outlier
detection counts them), connection resets (ztunnel). Proxies inside the network
still reach its endpoints directly.

- A label or address given to or taken from a gateway Service counts after the
  topology's propagation delay (istiod's push), in the order the changes came.
- A gateway pod becoming ready or going away counts at once (the load balancer
  in front of the gateway has a backend or not): `gateway_outage` (scale the
  gateway to 0: cut off; back: reachable).
- With no gateway Service known anywhere, multi-network is off (istiod's
  `IsMultiNetworkEnabled`): proxies get every endpoint directly and the lab
  treats its networks as routable to each other, as before there were gateways.
"""

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from chaosext.lab import kinds
from chaosext.lab.store import Event, Listener, Store
from chaosext.mesh import kube, names

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.eastwest")

GatewayKey = tuple[str, str, str]
"""(cluster, namespace, name) of a gateway Service."""


def gateways_of(cluster: str, store: Store) -> dict[GatewayKey, str]:
    """The gateway Services of one cluster's store, with their networks."""
    out: dict[GatewayKey, str] = {}
    for service in store.objects(kinds.SERVICE):
        network = kube.gateway_network(service)
        if network is not None:
            meta = service["metadata"]
            out[(cluster, meta["namespace"], meta["name"])] = network
    return out


def has_ready_pod(store: Store, namespace: str, name: str) -> bool:
    """Whether Service `namespace/name` selects a live, ready pod now."""
    service = store.peek(kinds.SERVICE, namespace, name)
    if service is None:
        return False
    return kube.ready_behind(service, store.objects(kinds.POD, namespace)) > 0


class EastWest:
    """Keeps `lab.networks_cut_off` in step with the network gateways."""

    def __init__(self, lab: "Lab") -> None:
        self.lab = lab
        self.delay = lab.topology.timing.propagation
        self.networks = {spec.network for spec in lab.topology.clusters}
        self.known: dict[GatewayKey, str] = {}
        """istiod's gateways (as pushed): gateway Service -> its network."""
        self._pending: asyncio.Handle | None = None
        self._pushes: deque[tuple[GatewayKey, str | None]] = deque()
        for name, runtime in lab.clusters.items():
            self.known.update(gateways_of(name, runtime.store))
            runtime.store.subscribe(self._listener(name))
        self.reconcile()

    def _listener(self, cluster: str) -> Listener:
        def on_event(event: Event) -> None:
            if event.kind is kinds.SERVICE:
                self._on_service(cluster, event)
            elif event.kind is kinds.POD:
                namespace = event.object["metadata"].get("namespace")
                if any(k[:2] == (cluster, namespace) for k in self.known):
                    self._soon()

        return on_event

    def _on_service(self, cluster: str, event: Event) -> None:
        meta = event.object["metadata"]
        key = (cluster, meta["namespace"], meta["name"])
        was = event.old is not None and names.NETWORK in kube.labels(event.old)
        if not was and names.NETWORK not in kube.labels(event.object):
            return  # never a gateway: nothing for istiod to push
        gone = event.type == "DELETED"
        network = None if gone else kube.gateway_network(event.object)
        self._pushes.append((key, network))
        asyncio.get_running_loop().call_later(self.delay, self._learn)

    def _learn(self) -> None:
        """istiod's push of the oldest gateway Service change has arrived (one
        timer per change, all of the same delay: they fire in order)."""
        key, network = self._pushes.popleft()
        if network is None:
            self.known.pop(key, None)
        else:
            self.known[key] = network
        self.reconcile()

    def _soon(self) -> None:
        """Reconcile once per turn of the event loop, however many pod events."""
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._pending = None
        self.reconcile()

    def reachable(self) -> set[str]:
        """Networks with a known gateway Service that has a ready pod now."""
        return {
            network
            for (cluster, namespace, name), network in self.known.items()
            if has_ready_pod(self.lab.clusters[cluster].store, namespace, name)
        }

    def reconcile(self) -> None:
        cut_off = self.lab.networks_cut_off
        up = self.reachable()
        now = {n for n in self.networks if n not in up} if self.known else set()
        for network in sorted(cut_off - now):
            log.info("network %s reachable from other networks again", network)
        for network in sorted(now - cut_off):
            log.info("network %s cut off: no ready gateway istiod knows", network)
        cut_off.intersection_update(now)
        cut_off.update(now)


async def attach(lab: "Lab") -> None:
    """Follow the network gateways from now on."""
    EastWest(lab)
