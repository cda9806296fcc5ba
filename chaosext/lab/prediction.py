"""Predicted splits without a running data plane: `World` holds a topology's objects
in the lab's own stores and asks the lab's own control plane and mesh model.

The objects come either from the topology file (pods placed by the lab's scheduler
rules and named `<deployment>-<cluster>-<zone>-<i>`) or from a running lab's API
(real pod names, live annotations, scaled deployments). Either way the endpoints,
the ServiceConfig (DestinationRule, traffic distribution) and the choosing proxy
(a client's sidecar or ztunnel, its waypoint, a gateway) come from the same code the
lab's data plane runs (`endpoints.ControlPlane`, `clientproxy.Mesh`), so `explain`
and the live lab cannot drift apart.
"""

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chaosext.mesh import whatif
from chaosext.mesh.whatif import Prediction, PredictionError, Row, Selector

__all__ = ["Prediction", "PredictionError", "Row", "Selector", "World"]
from chaosext.lab import kinds, objects, scheduler
from chaosext.lab.clientproxy import Choice, Mesh
from chaosext.lab.clients import client_identity, waypoint_refs
from chaosext.lab.endpoints import Address, ControlPlane, service_hosts
from chaosext.lab.lab import Lab, seed_cluster
from chaosext.lab.store import Obj
from chaosext.lab.topology import Client, Gateway, Topology, Waypoint

LIVE_KINDS = (
    kinds.NAMESPACE,
    kinds.NODE,
    kinds.SERVICE,
    kinds.POD,
    kinds.DESTINATION_RULE,
)

# GET a path from one cluster's API: (cluster, path) -> JSON
Fetch = Callable[[str, str], Mapping[str, Any]]


def _pod(deploy: Obj, name: str, node: str) -> Obj:
    template = deploy["spec"]["template"]
    meta = deploy["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": dict(template["metadata"].get("labels") or {}),
            "annotations": dict(template["metadata"].get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{meta['name']}-predicted",
                    "uid": meta["name"],
                    "controller": True,
                }
            ],
        },
        "spec": {**template["spec"], "nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


class World:
    """A topology's clusters as stores, with the lab's control plane over them."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.lab = Lab(topology)  # never started: stores and proxy identities only
        self.stores = {name: rt.store for name, rt in self.lab.clusters.items()}
        self._live = False
        self.plane = ControlPlane(
            self.stores,
            {c.name: c.network for c in topology.clusters},
            topology.mesh_locality_lb,
            0.0,
            self._address_of,
        )
        self.mesh = Mesh(self.stores, waypoint_refs(self.lab))

    @classmethod
    def from_topology(cls, topology: Topology) -> "World":
        """Every object the topology declares, with its workloads' pods placed."""
        world = cls(topology)
        for name, runtime in world.lab.clusters.items():
            seed_cluster(runtime.store, topology, runtime.spec)
            for deploy in list(runtime.store.objects(kinds.DEPLOYMENT)):
                world._place_pods(name, deploy)
        return world

    @classmethod
    def from_live(cls, topology: Topology, fetch: Fetch) -> "World":
        """The objects a running lab serves now (`fetch(cluster, path)` GETs JSON)."""
        world = cls(topology)
        world._live = True
        for cluster, store in world.stores.items():
            for kind in LIVE_KINDS:
                prefix = "/api" if not kind.group else f"/apis/{kind.group}"
                path = f"{prefix}/{kind.versions[0]}/{kind.plural}"
                for item in fetch(cluster, path).get("items") or []:
                    store.create(kind, dict(item))
        return world

    def _place_pods(self, cluster: str, deploy: Obj) -> None:
        template = deploy["spec"]["template"]
        if (template["metadata"].get("annotations") or {}).get(objects.ROLE_ANNOTATION):
            return  # gateways, clients and waypoints serve no workload
        store = self.stores[cluster]
        zone_of = {
            n["metadata"]["name"]: n["metadata"]["labels"].get(objects.ZONE_LABEL, "")
            for n in store.objects(kinds.NODE)
        }
        per_zone: dict[str, int] = {}
        counts = scheduler.peer_counts(store)  # kept here: placing stays O(nodes)
        peers = counts.setdefault(scheduler.peer_key(_pod(deploy, "", "")), {})
        for _ in range(int(deploy["spec"].get("replicas") or 0)):
            node = scheduler.pick_node(store, _pod(deploy, "", ""), counts)
            if node is None:
                continue
            peers[node] = peers.get(node, 0) + 1
            zone = zone_of[node]
            index = per_zone.get(zone, 0)
            per_zone[zone] = index + 1
            name = f"{deploy['metadata']['name']}-{cluster}-{zone}-{index}"
            store.create(kinds.POD, _pod(deploy, name, node))

    def _address_of(self, cluster: str, namespace: str, pod: str) -> Address | None:
        if not self._live:
            return ("127.0.0.1", 1)
        obj = self.stores[cluster].peek(kinds.POD, namespace, pod)
        annotations = (obj or {}).get("metadata", {}).get("annotations") or {}
        return ("127.0.0.1", 1) if objects.ADDRESS_ANNOTATION in annotations else None

    # -- who chooses --------------------------------------------------------------

    def names(self, cluster: str) -> list[str]:
        """Clients, gateways and waypoints of a cluster, as `--client` takes them."""
        topo = self.topology
        return [
            *(c.name for c in topo.clients if c.cluster == cluster),
            *(g.name for g in topo.gateways if g.cluster == cluster),
            *(w.name for w in topo.waypoints if w.cluster == cluster),
        ]

    def _check_cluster(self, cluster: str) -> None:
        if cluster not in self.stores:
            raise PredictionError(
                f"unknown cluster {cluster!r} in topology {self.topology.name} "
                f"(clusters: {', '.join(self.stores)})"
            )

    def namespace_of(self, cluster: str, name: str) -> str:
        """The namespace of the client, gateway or waypoint `name` in `cluster`."""
        topo = self.topology
        self._check_cluster(cluster)
        members: list[Client | Gateway | Waypoint] = [
            *topo.clients,
            *topo.gateways,
            *topo.waypoints,
        ]
        for member in members:
            if member.cluster == cluster and member.name == name:
                return member.namespace
        raise PredictionError(
            f"no client, gateway or waypoint {name!r} in cluster {cluster} "
            f"(there: {', '.join(self.names(cluster)) or 'none'})"
        )

    def chooser(self, cluster: str, name: str, host: str) -> tuple[Choice, str, str]:
        """(choice, namespace, description) for `name` in `cluster` calling `host`."""
        topo = self.topology
        self._check_cluster(cluster)
        for client in topo.clients:
            if client.cluster == cluster and client.name == name:
                identity = client_identity(self.lab, client)
                mesh_host = self.host(host, client.namespace)
                choice = self.mesh.choose(identity, client.proxy, mesh_host)
                what = f"client {name} ({client.proxy})"
                if choice.waypoint:
                    what += f" via waypoint {choice.waypoint}"
                return choice, client.namespace, what
        for gw in topo.gateways:
            if gw.cluster == cluster and gw.name == name:
                identity = self.lab.proxy_for(
                    "gateway",
                    gw.name,
                    gw.cluster,
                    gw.zone,
                    dict(gw.labels),
                    gw.namespace,
                )
                return Choice(identity), gw.namespace, f"gateway {name}"
        for (wp_cluster, namespace, wp_name), ref in self.mesh.waypoints.items():
            if wp_cluster == cluster and wp_name == name:
                return Choice(ref.proxy, waypoint=name), namespace, f"waypoint {name}"
        raise PredictionError(
            f"no client, gateway or waypoint {name!r} in cluster {cluster} "
            f"(there: {', '.join(self.names(cluster)) or 'none'})"
        )

    def hosts(self) -> list[str]:
        """Every mesh host some Service serves."""
        return sorted(
            {
                host
                for store in self.stores.values()
                for service in store.objects(kinds.SERVICE)
                for host in service_hosts(service)
            }
        )

    def host(self, given: str, namespace: str) -> str:
        """The mesh host `given` names (a name, `name:port`, or a URL)."""
        bare = given.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        found = self.mesh.resolve_host(bare, namespace)
        if found is None:
            raise PredictionError(
                f"no Service serves host {given!r} (hosts: {', '.join(self.hosts())})"
            )
        return found

    # -- the prediction -----------------------------------------------------------

    def predict(
        self,
        cluster: str,
        name: str,
        host: str,
        *,
        traffic_distribution: str | None = None,
        down: Iterable[Selector] = (),
        eject: Iterable[Selector] = (),
    ) -> Prediction:
        """Every endpoint of `host` with its priority and share, seen from `name`.

        `traffic_distribution` overrides the Service's (`"none"` clears it); `down`
        removes endpoints (scaled away, deleted); `eject` marks them ejected by
        outlier detection (Envoy only: ztunnel has none)."""
        choice, namespace, via = self.chooser(cluster, name, host)
        mesh_host = self.host(host, namespace)
        if choice.proxy is None:
            raise PredictionError(f"{via}: {choice.error}")
        proxy = choice.proxy
        config, endpoints, _ = self.plane.compute(
            mesh_host, proxy.cluster, proxy.namespace
        )
        if traffic_distribution is not None:
            value = (
                None if traffic_distribution.lower() == "none" else traffic_distribution
            )
            config = dataclasses.replace(config, traffic_distribution=value)
        return whatif.split(
            proxy,
            config,
            endpoints,
            via=via,
            down=down,
            eject=eject,
            l4_only=choice.l4_only,
        )
