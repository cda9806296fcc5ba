"""A live mesh as read once (`reader.read_mesh`): every context's objects, and what
istiod would build from them, with no further API call.

`MeshState` answers from memory: the mesh hosts, each host's endpoints (locality,
readiness and network from node labels), and the `ServiceConfig` exactly as istiod
builds it for a given proxy (the DestinationRule by istiod's lookup in the proxy's
own cluster, the Service's traffic distribution, the mesh default). So any number
of what-ifs cost no API call after the read.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaosext import mesh
from chaosext.mesh import kube, lookup, names

Obj = Mapping[str, Any]


class StateError(ValueError):
    """A question about the read mesh names something that is not there."""


@dataclass
class ClusterObjects:
    """What one kubeconfig context serves, as the API returned it (JSON dicts)."""

    context: str
    server: str
    nodes: dict[str, Mapping[str, str]] = field(default_factory=dict)  # labels
    namespaces: dict[str, Obj] = field(default_factory=dict)
    pods: list[Obj] = field(default_factory=list)
    services: list[Obj] = field(default_factory=list)
    deployments: list[Obj] = field(default_factory=list)
    rules: list[lookup.Rule] = field(default_factory=list)
    mesh_locality_lb: Mapping[str, Any] = field(
        default_factory=lambda: dict(names.MESH_LOCALITY_LB_DEFAULT)
    )
    notes: list[str] = field(default_factory=list)

    @property
    def network(self) -> str:
        """The cluster's network: the root namespace's `topology.istio.io/network`."""
        root = self.namespaces.get(names.ROOT_NAMESPACE)
        return kube.labels(root).get(names.NETWORK, "")

    def pod(self, namespace: str, name: str) -> Obj | None:
        for pod in self.pods:
            meta = pod["metadata"]
            if meta["name"] == name and meta["namespace"] == namespace:
                return pod
        return None


@dataclass
class MeshState:
    """Every context of a mesh, read once. `calls` counts the API calls it took.

    The objects are not changed after the read, so hosts and endpoints are computed
    once per host and kept (`_services`, `_endpoints`): predictions after the first
    cost only the mesh model.
    """

    clusters: dict[str, ClusterObjects]
    calls: int = 0
    _services: dict[str, list[tuple[str, Obj]]] = field(
        default_factory=dict, repr=False
    )
    _endpoints: dict[str, tuple[mesh.Endpoint, ...]] = field(
        default_factory=dict, repr=False
    )

    def cluster(self, context: str) -> ClusterObjects:
        """One context's objects; StateError naming the contexts that exist."""
        found = self.clusters.get(context)
        if found is None:
            raise StateError(
                f"unknown context {context!r} (contexts read: "
                f"{', '.join(self.clusters) or 'none'})"
            )
        return found

    # -- hosts ----------------------------------------------------------------------

    def services_for(self, host: str) -> list[tuple[str, Obj]]:
        """(context, Service) for every Service serving the mesh host."""
        if not self._services:
            for context, objects in self.clusters.items():
                for service in objects.services:
                    for each in kube.service_hosts(service):
                        self._services.setdefault(each, []).append((context, service))
        return list(self._services.get(host, ()))

    def hosts(self) -> list[str]:
        """Every mesh host some Service serves, in any context."""
        self.services_for("")  # builds the host index
        return sorted(self._services)

    def resolve_host(self, given: str, namespace: str) -> str:
        """The mesh host `given` (name, `name:port` or URL) means from `namespace`."""
        for candidate in kube.candidate_hosts(kube.bare_host(given), namespace):
            if self.services_for(candidate):
                return candidate
        raise StateError(
            f"no Service serves host {given!r} (hosts: {', '.join(self.hosts())})"
        )

    # -- endpoints and config -------------------------------------------------------

    def endpoints(self, host: str) -> tuple[mesh.Endpoint, ...]:
        """Every live pod behind `host` in every context, as mesh endpoints."""
        if host not in self._endpoints:
            self._endpoints[host] = self._read_endpoints(host)
        return self._endpoints[host]

    def _read_endpoints(self, host: str) -> tuple[mesh.Endpoint, ...]:
        out: list[mesh.Endpoint] = []
        seen: set[str] = set()
        for context, service in self.services_for(host):
            objects = self.clusters[context]
            network = objects.network
            namespace = service["metadata"]["namespace"]
            for pod in objects.pods:
                if pod["metadata"]["namespace"] != namespace:
                    continue
                if not kube.is_live(pod) or not kube.selects(service, pod):
                    continue
                name = pod["metadata"]["name"]
                if name in seen:
                    continue
                seen.add(name)
                node_labels = objects.nodes.get(pod["spec"]["nodeName"], {})
                out.append(kube.endpoint(pod, node_labels, context, network))
        return tuple(out)

    def owner_service(self, host: str, context: str) -> tuple[str, Obj]:
        """The Service for `host` that a proxy in `context` reads (its own
        cluster's, else the first context's)."""
        found = self.services_for(host)
        if not found:
            raise StateError(f"no Service serves host {host!r}")
        return next(((c, s) for c, s in found if c == context), found[0])

    def destination_rule(self, host: str, proxy: mesh.Proxy) -> lookup.Found | None:
        """The DestinationRule istiod applies for `proxy` (its own cluster's rules)."""
        _, service = self.owner_service(host, proxy.cluster)
        return lookup.destination_rule(
            self.cluster(proxy.cluster).rules,
            host,
            proxy_namespace=proxy.namespace,
            service_namespace=service["metadata"]["namespace"],
            proxy_labels=proxy.labels,
        )

    def service_config(self, host: str, proxy: mesh.Proxy) -> mesh.ServiceConfig:
        """The ServiceConfig istiod builds for `proxy` calling `host`."""
        owner, service = self.owner_service(host, proxy.cluster)
        namespace = self.clusters[owner].namespaces.get(
            service["metadata"]["namespace"]
        )
        found = self.destination_rule(host, proxy)
        gateways = []
        for gw in self.network_gateways():
            at_gateway = self.destination_rule(host, gw.proxy)
            spec = dict(at_gateway.spec) if at_gateway else None
            gateways.append(dataclasses.replace(gw, destination_rule=spec))
        return mesh.ServiceConfig(
            host=host,
            destination_rule=dict(found.spec) if found else None,
            traffic_distribution=kube.traffic_distribution(service, namespace),
            mesh_locality_lb=self.cluster(proxy.cluster).mesh_locality_lb,
            network_gateways=tuple(gateways),
        )

    def network_gateways(self) -> list[mesh.NetworkGateway]:
        """Every context's east-west gateways (`mesh.kube.network_gateways`)."""
        out: list[mesh.NetworkGateway] = []
        for context, objects in self.clusters.items():
            for service in objects.services:
                if kube.gateway_addresses(service):
                    out += kube.network_gateways(
                        context, service, objects.pods, objects.nodes
                    )
        return out

    # -- who runs where -------------------------------------------------------------

    def proxy_of(self, context: str, pod: Obj, kind: str) -> mesh.Proxy:
        """The mesh Proxy standing where `pod` runs (its node's locality)."""
        objects = self.cluster(context)
        node = str(pod["spec"].get("nodeName") or "")
        node_labels = objects.nodes.get(node, {})
        meta = pod["metadata"]
        return mesh.Proxy(
            kind=kind,
            name=meta["name"],
            cluster=context,
            network=kube.network_of(pod, node_labels, objects.network),
            locality=kube.locality_of(node_labels),
            labels=dict(kube.labels(pod)),
            node=node,
            namespace=meta["namespace"],
        )

    def deployment_pods(self, context: str, namespace: str, name: str) -> list[Obj]:
        """The live pods of a Deployment (its selector), by name."""
        objects = self.cluster(context)
        for deploy in objects.deployments:
            meta = deploy["metadata"]
            if meta["name"] != name or meta["namespace"] != namespace:
                continue
            match = (deploy["spec"].get("selector") or {}).get("matchLabels") or {}
            return sorted(
                (
                    p
                    for p in objects.pods
                    if all(kube.labels(p).get(k) == v for k, v in match.items())
                    and p["metadata"]["namespace"] == namespace
                    and kube.is_live(p)
                ),
                key=lambda p: p["metadata"]["name"],
            )
        return []

    def names_in(self, context: str) -> list[str]:
        """Deployments of a context, as `--client` takes them (for messages)."""
        return sorted(
            {
                f"{d['metadata']['namespace']}/{d['metadata']['name']}"
                for d in self.cluster(context).deployments
            }
        )


def contexts_of(state: MeshState, wanted: Sequence[str] | None) -> list[str]:
    """`wanted` contexts checked against those read (all when None)."""
    if not wanted:
        return list(state.clusters)
    for context in wanted:
        state.cluster(context)
    return list(wanted)
