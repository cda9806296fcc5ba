"""The lab's istiod: endpoint discovery across every cluster, pushed to each proxy's
`EndpointView` after `timing.propagation` seconds (as EDS pushes lag the API).

A host's endpoints are the scheduled, non-terminating pods selected by the Services
serving that host in any cluster: `<svc>.<ns>.svc.cluster.local` (namespace sameness),
the hosts in a Service's `lab.meshdrill.io/hosts` annotation, and
`<svc>.<ns>.mesh.internal` for Services labelled `solo.io/service-scope=global`.
Locality comes from the pod's node labels. The routing config (DestinationRule,
traffic distribution, mesh default) is read from the proxy's own cluster; the
DestinationRule is the one istiod's lookup finds for the proxy's namespace
(`mesh.lookup.destination_rule`).
"""

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chaosext import mesh
from chaosext.lab import kinds
from chaosext.lab.kubelet import is_ready
from chaosext.lab.objects import (
    NETWORK_LABEL,
    REGION_LABEL,
    SUBZONE_LABEL,
    ZONE_LABEL,
)
from chaosext.lab.store import Event, Obj, Store
from chaosext.mesh import kube, lookup, names

TRAFFIC_DISTRIBUTION_ANNOTATION = names.TRAFFIC_DISTRIBUTION
GLOBAL_SCOPE_LABEL = names.SERVICE_SCOPE
_RELEVANT = {
    kinds.POD.key,
    kinds.SERVICE.key,
    kinds.NODE.key,
    kinds.NAMESPACE.key,
    kinds.DESTINATION_RULE.key,
}

Address = tuple[str, int]
AddressOf = Callable[[str, str, str], Address | None]  # cluster, namespace, pod


@dataclass(frozen=True)
class Snapshot:
    """What one proxy knows about one host at one moment."""

    version: int
    service: mesh.ServiceConfig
    endpoints: tuple[mesh.Endpoint, ...]
    addresses: Mapping[str, Address]


def service_hosts(service: Obj) -> set[str]:
    """The mesh hosts a Service serves (`mesh.kube.service_hosts`)."""
    return kube.service_hosts(service)


class EndpointView:
    """One proxy's view of one host: snapshots become visible `propagation` s late."""

    def __init__(
        self,
        host: str,
        proxy_cluster: str,
        propagation: float,
        first: tuple[mesh.ServiceConfig, tuple[mesh.Endpoint, ...], dict[str, Address]],
        proxy_namespace: str = "",
    ) -> None:
        self.host = host
        self.proxy_cluster = proxy_cluster
        self.proxy_namespace = proxy_namespace
        self.propagation = propagation
        self._content = first
        self._version = 1
        self._current = Snapshot(1, *first)
        self._pending: deque[tuple[float, Snapshot]] = deque()

    def offer(
        self,
        content: tuple[
            mesh.ServiceConfig, tuple[mesh.Endpoint, ...], dict[str, Address]
        ],
        now: float,
    ) -> None:
        """The control plane's latest state; kept only if it changed something."""
        if content == self._content:
            return
        self._content = content
        self._version += 1
        self._pending.append(
            (now + self.propagation, Snapshot(self._version, *content))
        )

    def current(self, now: float) -> Snapshot:
        """The newest snapshot that has reached the proxy by `now`."""
        while self._pending and self._pending[0][0] <= now:
            self._current = self._pending.popleft()[1]
        return self._current


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
        self.address_of = address_of
        self.clock = clock
        self._views: list[EndpointView] = []
        for store in stores.values():
            store.subscribe(self._on_event)

    def view(
        self, host: str, proxy_cluster: str, proxy_namespace: str = ""
    ) -> EndpointView:
        """A new view of `host` for a proxy in `proxy_cluster` and `proxy_namespace`
        (its namespace decides which DestinationRule applies)."""
        view = EndpointView(
            host,
            proxy_cluster,
            self.propagation,
            self.compute(host, proxy_cluster, proxy_namespace),
            proxy_namespace,
        )
        self._views.append(view)
        return view

    def _on_event(self, event: Event) -> None:
        if event.kind.key not in _RELEVANT:
            return
        now = self.clock()
        for view in self._views:
            view.offer(
                self.compute(view.host, view.proxy_cluster, view.proxy_namespace), now
            )

    def compute(
        self, host: str, proxy_cluster: str, proxy_namespace: str = ""
    ) -> tuple[mesh.ServiceConfig, tuple[mesh.Endpoint, ...], dict[str, Address]]:
        """The ServiceConfig, endpoints and pod addresses for `host` right now."""
        endpoints: list[mesh.Endpoint] = []
        addresses: dict[str, Address] = {}
        services: dict[str, Obj] = {}
        for cluster, store in self.stores.items():
            for service in store.objects(kinds.SERVICE):
                if host not in service_hosts(service):
                    continue
                services.setdefault(cluster, service)
                for endpoint, address in self._endpoints(cluster, store, service):
                    if endpoint.name not in addresses:
                        endpoints.append(endpoint)
                        addresses[endpoint.name] = address
        owner = services.get(proxy_cluster) or next(iter(services.values()), None)
        service_namespace = owner["metadata"]["namespace"] if owner else ""
        config = mesh.ServiceConfig(
            host=host,
            destination_rule=self._destination_rule(
                host, proxy_cluster, proxy_namespace, service_namespace
            ),
            traffic_distribution=self._distribution(services, proxy_cluster),
            mesh_locality_lb=self.mesh_locality_lb,
        )
        return config, tuple(endpoints), addresses

    def _endpoints(
        self, cluster: str, store: Store, service: Obj
    ) -> list[tuple[mesh.Endpoint, Address]]:
        selector = service["spec"].get("selector") or {}
        if not selector:
            return []
        out = []
        for pod in store.objects(kinds.POD, service["metadata"]["namespace"]):
            labels = pod["metadata"].get("labels") or {}
            node_name = pod["spec"].get("nodeName")
            if pod["metadata"].get("deletionTimestamp") or not node_name:
                continue
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            node = store.peek(kinds.NODE, "", node_name)
            node_labels = (node or {}).get("metadata", {}).get("labels") or {}
            address = self.address_of(
                cluster, pod["metadata"]["namespace"], pod["metadata"]["name"]
            )
            endpoint = mesh.Endpoint(
                name=pod["metadata"]["name"],
                cluster=cluster,
                network=node_labels.get(NETWORK_LABEL, self.networks.get(cluster, "")),
                locality=mesh.Locality(
                    node_labels.get(REGION_LABEL, ""),
                    node_labels.get(ZONE_LABEL, ""),
                    node_labels.get(SUBZONE_LABEL, ""),
                ),
                labels=dict(labels),
                node=node_name,
                ready=is_ready(pod) and address is not None,
            )
            out.append((endpoint, address or ("127.0.0.1", 0)))
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

    def _distribution(self, services: dict[str, Obj], cluster: str) -> str | None:
        service = services.get(cluster) or next(iter(services.values()), None)
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
        owner = next(c for c, s in services.items() if s is service)
        namespace = self.stores[owner].peek(
            kinds.NAMESPACE, "", service["metadata"]["namespace"]
        )
        value = ((namespace or {}).get("metadata", {}).get("annotations") or {}).get(
            TRAFFIC_DISTRIBUTION_ANNOTATION
        )
        return str(value) if value else None
