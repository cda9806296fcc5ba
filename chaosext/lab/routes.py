"""VirtualService routes (faults, timeouts) as istiod pushes them to each cluster's
Envoy proxies.

Each cluster's istiod reads that cluster's VirtualServices (and Gateways); its
proxies receive them `timing.propagation` seconds after a write, as after an xDS
push. A proxy then applies, to its requests for a host, the route
`chaosext.mesh.virtualservice.route_for` finds: sidecars and waypoints the
VirtualServices bound to `mesh` (no `gateways`), an ingress gateway those naming
a Gateway whose `selector` matches the gateway's labels. ztunnel (L4) never asks:
it ignores VirtualServices. The lab's ingress gateway has no virtual hosts of its
own: a VirtualService bound to it applies when one of its hosts matches the
gateway's route host (or is `*`).

The data plane (`dataplane.forward`) reads a proxy's route on each request:
a fault's delay before forwarding, its abort instead of forwarding (no upstream
is contacted, so no outlier detection sees it), the route timeout as a 504.
"""

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from chaosext import mesh
from chaosext.lab import kinds
from chaosext.lab.store import Event, Store
from chaosext.mesh import virtualservice

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.routes")

VIRTUAL_SERVICE = kinds.by_kind(f"{kinds.ISTIO}/v1", "VirtualService")
ISTIO_GATEWAY = kinds.by_kind(f"{kinds.ISTIO}/v1", "Gateway")
MESH_PROXIES = ("sidecar", "waypoint")


class RouteTable:
    """One cluster's VirtualServices and Gateways, as its proxies last received them."""

    def __init__(self, store: Store, propagation: float) -> None:
        self.store = store
        self.propagation = propagation
        self.services: list[dict[str, Any]] = []
        self.gateways: list[dict[str, Any]] = []
        self._routes: dict[tuple[str, ...], virtualservice.Route | None] = {}
        """Each proxy's route per host, found once per push (`route` runs on every
        request)."""
        self._pending: asyncio.TimerHandle | None = None
        store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind is not VIRTUAL_SERVICE and event.kind is not ISTIO_GATEWAY:
            return
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(self.propagation, self.reconcile)

    def reconcile(self) -> None:
        """Take the store's objects now (what an xDS push would carry)."""
        self._pending = None
        assert VIRTUAL_SERVICE is not None
        assert ISTIO_GATEWAY is not None
        services = list(self.store.objects(VIRTUAL_SERVICE))
        if len(services) != len(self.services):
            log.info("%s: %d VirtualServices", self.store.cluster, len(services))
        self.services = services
        self.gateways = list(self.store.objects(ISTIO_GATEWAY))
        self._routes = {}

    def bindings(self, proxy: mesh.Proxy) -> tuple[str, ...]:
        """What `gateways` entries bind a VirtualService to this proxy."""
        if proxy.kind in MESH_PROXIES:
            return (virtualservice.MESH,)
        if proxy.kind != "gateway":
            return ()  # ztunnel: L4, no VirtualService
        found = []
        for gateway in self.gateways:
            selector = (gateway.get("spec") or {}).get("selector") or {}
            if selector and all(proxy.labels.get(k) == v for k, v in selector.items()):
                meta = gateway["metadata"]
                found.append(f"{meta['namespace']}/{meta['name']}")
        return tuple(found)

    def route(self, proxy: mesh.Proxy, host: str) -> virtualservice.Route | None:
        """The route `proxy` applies to requests for `host` (None: none)."""
        if not self.services:
            return None
        key = (proxy.kind, proxy.cluster, proxy.namespace, proxy.name, host)
        if key not in self._routes:
            bindings = self.bindings(proxy)
            self._routes[key] = (
                virtualservice.route_for(self.services, host, proxy.namespace, bindings)
                if bindings
                else None
            )
        return self._routes[key]


async def attach(lab: "Lab") -> None:
    """Give every cluster its route table, filled from its store now."""
    for name, runtime in lab.clusters.items():
        table = RouteTable(runtime.store, lab.topology.timing.propagation)
        table.reconcile()
        lab.route_tables[name] = table
