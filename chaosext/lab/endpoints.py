"""The lab's istiod: endpoint discovery across every cluster, pushed to each proxy's
`EndpointView` after `timing.propagation` seconds (as EDS pushes lag the API).

Endpoints are kept incrementally by `endpointindex.EndpointIndex` (a pod event costs
that pod only). Store events only mark hosts dirty; one push per dirty host is made
on the event loop soon after (at most one every `PUSH_INTERVAL` under churn, as
istiod debounces), a view at a time with the loop handed over between (`pacing`),
so neither an API write nor an API read waits for proxy work. Each push offers
every view of the host one snapshot; a view keeps its pending snapshots in order
and shows the newest that is due. Locality comes from the pod's node labels. The
routing config (DestinationRule, traffic distribution, mesh default) is read from
the proxy's own cluster; the DestinationRule is the one istiod's lookup finds for
the proxy's namespace (`mesh.lookup.destination_rule`). East-west gateways
(`network_gateways`) come with every config: proxies reach other networks through
them (`mesh.networks`); a change to one pushes every host. `recorder`, when set, is
told of every snapshot a view will show (see `groundtruth`).
"""

import asyncio
import dataclasses
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from chaosext import mesh
from chaosext.lab import kinds
from chaosext.lab.endpointindex import (
    GLOBAL_SCOPE_LABEL,
    Address,
    AddressOf,
    EndpointIndex,
    service_hosts,
)
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Event, Store
from chaosext.mesh import kube, lookup, names

__all__ = [
    "GLOBAL_SCOPE_LABEL",
    "Address",
    "AddressOf",
    "ControlPlane",
    "EndpointView",
    "Snapshot",
    "service_hosts",
]

TRAFFIC_DISTRIBUTION_ANNOTATION = names.TRAFFIC_DISTRIBUTION
PUSH_INTERVAL = 0.02
"""Seconds between two pushes while changes keep coming (istiod's debounce); at
least `PUSH_SHARE` times what the last push took, so pushes (and their records)
never take more than a fifth of the event loop from the API servers."""
PUSH_SHARE = 4.0
_CONFIG_KINDS = {kinds.NAMESPACE.key, kinds.DESTINATION_RULE.key}

Content = tuple[mesh.ServiceConfig, tuple[mesh.Endpoint, ...], Mapping[str, Address]]


@dataclass(frozen=True)
class Snapshot:
    """What one proxy knows about one host at one moment."""

    version: int
    service: mesh.ServiceConfig
    endpoints: tuple[mesh.Endpoint, ...]
    addresses: Mapping[str, Address]


class Recorder(Protocol):
    def snapshot(self, view: "EndpointView", snapshot: Snapshot, at: float) -> None:
        """`view` shows `snapshot` from monotonic time `at` on."""


class EndpointView:
    """One proxy's view of one host: snapshots become visible `propagation` s late."""

    def __init__(
        self,
        host: str,
        proxy_cluster: str,
        propagation: float,
        first: Content,
        proxy: mesh.Proxy | None = None,
        proxy_namespace: str = "",
    ) -> None:
        self.host = host
        self.proxy_cluster = proxy_cluster
        self.proxy = proxy
        self.proxy_namespace = proxy.namespace if proxy else proxy_namespace
        self.propagation = propagation
        self._content = first
        self._version = 1
        self._current = Snapshot(1, *first)
        self._pending: deque[tuple[float, Snapshot]] = deque()

    def offer(self, content: Content, now: float) -> tuple[float, Snapshot] | None:
        """The control plane's latest state; kept only if it changed something.
        Returns (when it becomes visible, the snapshot) if kept."""
        old = self._content
        if (
            content[0] == old[0]
            and (content[1] is old[1] or content[1] == old[1])
            and (content[2] is old[2] or content[2] == old[2])
        ):
            return None
        self._content = content
        self._version += 1
        due = (now + self.propagation, Snapshot(self._version, *content))
        self._pending.append(due)
        return due

    def current(self, now: float) -> Snapshot:
        """The newest snapshot that has reached the proxy by `now`."""
        while self._pending and self._pending[0][0] <= now:
            self._current = self._pending.popleft()[1]
        return self._current


def _moves_a_gateway(event: Event) -> bool:
    """A change to an east-west gateway (its Service, or one of its pods): every
    proxy's config may change (`mesh.NetworkGateway`)."""
    if event.kind.key == kinds.SERVICE.key:
        return any(
            names.NETWORK in kube.labels(obj)
            for obj in (event.object, event.old)
            if obj is not None
        )
    return event.kind.key == kinds.POD.key and kube.is_gateway(event.object)


class ControlPlane:
    """Watches every cluster's store and feeds the proxies' endpoint views."""

    def __init__(
        self,
        stores: Mapping[str, Store],
        networks: Mapping[str, str],
        mesh_locality_lb: Mapping[str, Any],
        propagation: float,
        address_of: AddressOf,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stores = stores
        self.networks = networks
        self.mesh_locality_lb = dict(mesh_locality_lb)
        self.propagation = propagation
        self.clock = clock
        self.recorder: Recorder | None = None
        self.index = EndpointIndex(stores, networks, address_of, self._dirty)
        self._views: dict[str, list[EndpointView]] = {}
        self._dirty_hosts: dict[str, bool] = {}  # host -> endpoints changed
        self._all_config = False
        self._flush_handle: asyncio.Handle | None = None
        self._pushing = False
        self._push_task: asyncio.Task[None] | None = None
        self._next_push = float("-inf")
        self.pushes = 0
        self.paused: set[str] = set()
        """Clusters whose istiod is down: their proxies get no push (`istiod`)."""
        for cluster, store in stores.items():
            store.subscribe(self._listener(cluster))
            for kind in (kinds.SERVICE, kinds.POD):  # objects stored before us
                for obj in list(store.objects(kind)):
                    self.index.on_event(cluster, Event("ADDED", kind, obj, None, 0))

    def _listener(self, cluster: str) -> Callable[[Event], None]:
        def on_event(event: Event) -> None:
            if event.kind.key in _CONFIG_KINDS:
                self._all_config = True
                self._schedule()
            else:
                if _moves_a_gateway(event):
                    self._all_config = True
                    self._schedule()
                self.index.on_event(cluster, event)

        return on_event

    def view(
        self, host: str, proxy: mesh.Proxy | str, proxy_namespace: str = ""
    ) -> EndpointView:
        """A new view of `host` for a proxy (or any proxy of a cluster and
        namespace: its namespace decides which DestinationRule applies)."""
        if isinstance(proxy, str):
            cluster, identity = proxy, None
        else:
            cluster, identity = proxy.cluster, proxy
            proxy_namespace = proxy.namespace
        view = EndpointView(
            host,
            cluster,
            self.propagation,
            self.compute(host, cluster, proxy_namespace),
            identity,
            proxy_namespace,
        )
        self._views.setdefault(host, []).append(view)
        if self.recorder is not None:
            now = self.clock()
            self.recorder.snapshot(view, view.current(now), now)
        return view

    def views(self) -> list[EndpointView]:
        return [v for views in self._views.values() for v in views]

    # -- pushes -------------------------------------------------------------------

    def _dirty(self, hosts: Iterable[str], endpoints: bool) -> None:
        for host in hosts:
            if host in self._views:
                self._dirty_hosts[host] = (
                    self._dirty_hosts.get(host, False) or endpoints
                )
        if self._dirty_hosts:
            self._schedule()

    def _schedule(self) -> None:
        if self._flush_handle is not None or self._pushing or not self._views:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): push now
            self.flush()
            return
        wait = self._next_push - self.clock()
        if wait > 0:
            self._flush_handle = loop.call_later(wait, self._start_push)
        else:
            self._flush_handle = loop.call_soon(self._start_push)

    def _take(self) -> list[str]:
        """The hosts to push now (every host after a config change)."""
        hosts = list(self._views) if self._all_config else list(self._dirty_hosts)
        self._dirty_hosts.clear()
        self._all_config = False
        self.pushes += 1
        return hosts

    def flush(self) -> None:
        """Offer every dirty host's state to its views, now, in one go."""
        self._flush_handle = None
        hosts = self._take()
        now = self.clock()
        try:
            for host in hosts:
                for _ in self._push(host):
                    pass
        finally:
            took = self.clock() - now
            self._next_push = now + took + max(PUSH_INTERVAL, PUSH_SHARE * took)

    def _start_push(self) -> None:
        self._flush_handle = None
        self._pushing = True
        self._push_task = asyncio.get_running_loop().create_task(self._paced_push())

    async def _paced_push(self) -> None:
        """`flush` a view at a time, handing the loop over every `pacing.SLICE`
        (a host with thousands of endpoints costs a record per view): every view
        of a host is offered the same state (the host's when its turn came; a
        change meanwhile marks it for the next push), each at the moment its own
        turn comes. The next push waits `PUSH_SHARE` times the loop time this one
        held."""
        pacer = Pacer()
        held = 0.0
        began = self.clock()
        try:
            for host in self._take():
                for _ in self._push(host):
                    held += self.clock() - began
                    await pacer.turn()
                    began = self.clock()
        finally:
            held += self.clock() - began
            now = self.clock()
            self._next_push = now + max(PUSH_INTERVAL, PUSH_SHARE * held)
            self._pushing = False
            self._push_task = None
            if self._dirty_hosts or self._all_config:
                self._schedule()

    def _push(self, host: str) -> Iterator[None]:
        """Offer `host`'s state to each of its views, yielding after each."""
        configs: dict[tuple[str, str], mesh.ServiceConfig] = {}
        built = self.index.endpoints(host)  # one state for every view of the host
        for view in list(self._views.get(host, ())):
            if view.proxy_cluster in self.paused:
                continue  # keeps its last snapshot: istiod is down
            key = (view.proxy_cluster, view.proxy_namespace)
            config = configs.get(key)
            if config is None:
                config = configs[key] = self.config(host, *key)
            due = view.offer((config, built.endpoints, built.addresses), self.clock())
            if due is not None and self.recorder is not None:
                self.recorder.snapshot(view, due[1], due[0])
            yield

    def pause(self, cluster: str) -> None:
        """Stop pushing to the proxies of `cluster` (its istiod is down)."""
        self.paused.add(cluster)

    def resume(self, cluster: str) -> None:
        """Push to the proxies of `cluster` again: everything, at once."""
        self.paused.discard(cluster)
        self._all_config = True
        self._schedule()

    # -- state --------------------------------------------------------------------

    def compute(
        self, host: str, proxy_cluster: str, proxy_namespace: str = ""
    ) -> Content:
        """The ServiceConfig, endpoints and pod addresses for `host` right now."""
        built = self.index.endpoints(host)
        config = self.config(host, proxy_cluster, proxy_namespace)
        return config, built.endpoints, built.addresses

    def config(
        self, host: str, proxy_cluster: str, proxy_namespace: str = ""
    ) -> mesh.ServiceConfig:
        """The ServiceConfig a proxy in `proxy_cluster` and `proxy_namespace` gets
        for `host`."""
        serving = self.index.serving(host)
        owner = serving.get(proxy_cluster) or next(iter(serving.values()), None)
        service_namespace = owner[0] if owner else ""
        return mesh.ServiceConfig(
            host=host,
            destination_rule=self._destination_rule(
                host, proxy_cluster, proxy_namespace, service_namespace
            ),
            traffic_distribution=self._distribution(host, proxy_cluster),
            mesh_locality_lb=self.mesh_locality_lb,
            network_gateways=tuple(
                dataclasses.replace(
                    gw,
                    destination_rule=self._destination_rule(
                        host, gw.cluster, gw.proxy.namespace, service_namespace
                    ),
                )
                for gw in self.network_gateways()
            ),
        )

    def network_gateways(self) -> list[mesh.NetworkGateway]:
        """The east-west gateways of every cluster (`mesh.kube.network_gateways`:
        Services labelled with a network that have a load-balancer address)."""
        out: list[mesh.NetworkGateway] = []
        for cluster, store in self.stores.items():
            for service in store.objects(kinds.SERVICE):
                if not kube.gateway_addresses(service):
                    continue
                namespace = service["metadata"]["namespace"]
                nodes = {
                    n["metadata"]["name"]: n["metadata"].get("labels") or {}
                    for n in store.objects(kinds.NODE)
                }
                pods = store.objects(kinds.POD, namespace)
                out += kube.network_gateways(cluster, service, pods, nodes)
        return out

    def _destination_rule(
        self, host: str, cluster: str, proxy_namespace: str, service_namespace: str
    ) -> dict[str, Any] | None:
        rules = [
            lookup.Rule.from_object(r)
            for r in self.stores[cluster].objects(kinds.DESTINATION_RULE)
        ]
        found = lookup.destination_rule(
            rules,
            host,
            proxy_namespace=proxy_namespace,
            service_namespace=service_namespace,
        )
        return dict(found.spec) if found else None

    def _distribution(self, host: str, cluster: str) -> str | None:
        serving = self.index.serving(host)
        owner = cluster if cluster in serving else next(iter(serving), None)
        if owner is None:
            return None
        service = self.stores[owner].peek(kinds.SERVICE, *serving[owner])
        if service is None:
            return None
        spec_value = service["spec"].get("trafficDistribution")
        if spec_value:
            return str(spec_value)
        annotation = (service["metadata"].get("annotations") or {}).get(
            TRAFFIC_DISTRIBUTION_ANNOTATION
        )
        if annotation:
            return str(annotation)
        namespace = self.stores[owner].peek(
            kinds.NAMESPACE, "", service["metadata"]["namespace"]
        )
        value = ((namespace or {}).get("metadata", {}).get("annotations") or {}).get(
            TRAFFIC_DISTRIBUTION_ANNOTATION
        )
        return str(value) if value else None
