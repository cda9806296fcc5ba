"""The control plane's incremental index: each mesh host's endpoints across every
cluster, kept up to date one store event at a time.

A pod event touches only that pod: the hosts of the Services that select it (in its
own cluster and namespace) gain, lose or update its endpoint. A Service event
re-examines the pods of its namespace; a Node event whose labels changed, the pods
on that node. Everything else (DestinationRules, Namespaces) changes configuration
only. Each change marks its hosts dirty, so the control plane pushes only those.

A host's endpoints are the scheduled, non-terminating pods selected by the Services
serving that host in any cluster, ordered by cluster (store order), namespace and
pod name; a pod name already seen in an earlier cluster is not repeated.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

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
from chaosext.mesh import kube, names

GLOBAL_SCOPE_LABEL = names.SERVICE_SCOPE

Address = tuple[str, int]
AddressOf = Callable[[str, str, str], Address | None]  # cluster, namespace, pod
PodKey = tuple[int, str, str]  # cluster index, namespace, pod name
Entry = tuple[mesh.Endpoint, Address]
NO_ADDRESS: Address = ("127.0.0.1", 0)


def service_hosts(service: Obj) -> set[str]:
    """The mesh hosts a Service serves (`mesh.kube.service_hosts`)."""
    return kube.service_hosts(service)


@dataclass(frozen=True)
class _Service:
    hosts: frozenset[str]
    selector: Mapping[str, str]


@dataclass(frozen=True)
class HostEndpoints:
    """One host's endpoints at one version (shared by every proxy's view)."""

    version: int
    endpoints: tuple[mesh.Endpoint, ...]
    addresses: Mapping[str, Address]


class EndpointIndex:
    """Endpoints per mesh host, maintained from store events."""

    def __init__(
        self,
        stores: Mapping[str, Store],
        networks: Mapping[str, str],
        address_of: AddressOf,
        on_dirty: Callable[[Iterable[str], bool], None],
    ) -> None:
        self.stores = stores
        self.networks = networks
        self.address_of = address_of
        self._on_dirty = on_dirty  # (hosts, endpoints changed?) -> None
        self._order = {name: i for i, name in enumerate(stores)}
        self._names = list(stores)
        # cluster -> namespace -> service name -> _Service
        self._services: dict[str, dict[str, dict[str, _Service]]] = {
            c: {} for c in stores
        }
        # host -> cluster -> namespaces/names of the Services serving it
        self._serving: dict[str, dict[str, set[tuple[str, str]]]] = {}
        self._pod_hosts: dict[PodKey, frozenset[str]] = {}
        self._entries: dict[str, dict[PodKey, Entry]] = {}
        self._versions: dict[str, int] = {}
        self._built: dict[str, HostEndpoints] = {}

    # -- reads --------------------------------------------------------------------

    def hosts(self) -> list[str]:
        """Every host some Service serves."""
        return [h for h, by in self._serving.items() if any(by.values())]

    def serving(self, host: str) -> dict[str, tuple[str, str]]:
        """cluster -> (namespace, name) of the first Service serving `host` there,
        in store order."""
        out: dict[str, tuple[str, str]] = {}
        for cluster in self._names:
            keys = self._serving.get(host, {}).get(cluster)
            if keys:
                out[cluster] = min(keys)
        return out

    def endpoints(self, host: str) -> HostEndpoints:
        """The host's endpoints now (built once per change, then shared)."""
        version = self._versions.get(host, 0)
        built = self._built.get(host)
        if built is not None and built.version == version:
            return built
        entries = self._entries.get(host, {})
        endpoints: list[mesh.Endpoint] = []
        addresses: dict[str, Address] = {}
        for key in sorted(entries):
            endpoint, address = entries[key]
            if endpoint.name not in addresses:
                endpoints.append(endpoint)
                addresses[endpoint.name] = address
        built = HostEndpoints(version, tuple(endpoints), addresses)
        self._built[host] = built
        return built

    # -- events -------------------------------------------------------------------

    def on_event(self, cluster: str, event: Event) -> None:
        key = event.kind.key
        if key == kinds.POD.key:
            pod = None if event.type == "DELETED" else event.object
            meta = event.object["metadata"]
            self._pod(cluster, meta["namespace"], meta["name"], pod)
        elif key == kinds.SERVICE.key:
            self._service(cluster, event)
        elif key == kinds.NODE.key:
            old = ((event.old or {}).get("metadata") or {}).get("labels")
            new = event.object["metadata"].get("labels")
            if event.type == "MODIFIED" and old == new:
                return
            self._node(cluster, event.object["metadata"]["name"])

    def _service(self, cluster: str, event: Event) -> None:
        meta = event.object["metadata"]
        ns, name = meta["namespace"], meta["name"]
        by_ns = self._services[cluster].setdefault(ns, {})
        old = by_ns.pop(name, None)
        touched = set(old.hosts) if old else set()
        if event.type != "DELETED":
            entry = _Service(
                frozenset(service_hosts(event.object)),
                dict(event.object["spec"].get("selector") or {}),
            )
            by_ns[name] = entry
            touched |= entry.hosts
            for host in entry.hosts:
                self._serving.setdefault(host, {}).setdefault(cluster, set()).add(
                    (ns, name)
                )
        for host in old.hosts if old else ():
            if event.type == "DELETED" or host not in by_ns[name].hosts:
                self._serving.get(host, {}).get(cluster, set()).discard((ns, name))
        self._on_dirty(touched, False)
        for pod in list(self.stores[cluster].objects(kinds.POD, ns)):
            self._pod(cluster, ns, pod["metadata"]["name"], pod)

    def _node(self, cluster: str, node: str) -> None:
        for pod in list(self.stores[cluster].objects(kinds.POD)):
            if pod["spec"].get("nodeName") == node:
                meta = pod["metadata"]
                self._pod(cluster, meta["namespace"], meta["name"], pod)

    def _pod(self, cluster: str, ns: str, name: str, pod: Obj | None) -> None:
        key = (self._order[cluster], ns, name)
        hosts: set[str] = set()
        if (
            pod is not None
            and pod["spec"].get("nodeName")
            and not pod["metadata"].get("deletionTimestamp")
        ):
            labels = pod["metadata"].get("labels") or {}
            for service in self._services[cluster].get(ns, {}).values():
                selector = service.selector
                if selector and all(labels.get(k) == v for k, v in selector.items()):
                    hosts |= service.hosts
        old_hosts = self._pod_hosts.get(key, frozenset())
        changed = [h for h in old_hosts if h not in hosts]
        for host in changed:
            self._entries[host].pop(key, None)
        if hosts:
            assert pod is not None
            entry = self._entry(cluster, pod)
            for host in hosts:
                entries = self._entries.setdefault(host, {})
                if entries.get(key) != entry:
                    entries[key] = entry
                    changed.append(host)
            self._pod_hosts[key] = frozenset(hosts)
        else:
            self._pod_hosts.pop(key, None)
        for host in changed:
            self._versions[host] = self._versions.get(host, 0) + 1
        if changed:
            self._on_dirty(changed, True)

    def _entry(self, cluster: str, pod: Obj) -> Entry:
        meta = pod["metadata"]
        node_name = pod["spec"]["nodeName"]
        node = self.stores[cluster].peek(kinds.NODE, "", node_name)
        node_labels = (node or {}).get("metadata", {}).get("labels") or {}
        address = self.address_of(cluster, meta["namespace"], meta["name"])
        endpoint = mesh.Endpoint(
            name=meta["name"],
            cluster=cluster,
            network=node_labels.get(NETWORK_LABEL, self.networks.get(cluster, "")),
            locality=mesh.Locality(
                node_labels.get(REGION_LABEL, ""),
                node_labels.get(ZONE_LABEL, ""),
                node_labels.get(SUBZONE_LABEL, ""),
            ),
            labels=dict(meta.get("labels") or {}),
            node=node_name,
            ready=is_ready(pod) and address is not None,
            mtls=kube.has_mtls(pod),
        )
        return endpoint, address or NO_ADDRESS
