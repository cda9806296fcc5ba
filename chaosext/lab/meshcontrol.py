"""What istiod, the Gateway controller and the multicluster peering controller do
when configuration changes, so a guide runs as one session on one topology.

- A `gateway.networking.k8s.io` Gateway of class `istio-waypoint` gets its waypoint:
  a Deployment and a Service of the Gateway's name (1 replica, on the first node of
  the zone the topology's `waypoints:` names for it, else the cluster's first zone),
  and the Gateway's status says Accepted and Programmed. The waypoint routes once
  its Deployment has a ready replica (until then `istio.io/use-waypoint` requests
  fail, as with a waypoint still starting). Deleting the Gateway deletes both.
- A Service labelled `solo.io/service-scope=global` in any cluster gets the
  ServiceEntry `autogen.<ns>.<svc>` for `<svc>.<ns>.mesh.internal` in istio-system of
  every cluster; it goes when no cluster labels the Service any more.
- A topology cluster with `eastwest: <zone>` has `istio-eastwestgateway` (Deployment
  and LoadBalancer Service in istio-system, seeded with the cluster:
  `lab.seed_cluster`) labelled with its network, region and that zone. Its Service
  makes it a network gateway: sidecars, ingress gateways and waypoints on other
  networks reach this network's pods through it (`mesh.networks`; the gateway's
  own Envoy, in that zone, picks the pod).
- Routing changes from Services, Namespaces and DestinationRules are the control
  plane's (`endpoints`): pushed after the propagation delay.

The reactions run on the event loop just after the write that caused them (never
inside the API request), and again whenever a related object changes.
"""

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from chaosext.lab import kinds, objects
from chaosext.lab.clientproxy import WaypointRef
from chaosext.lab.endpointindex import GLOBAL_SCOPE_LABEL
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Event, Obj, Store
from chaosext.lab.topology import Cluster

if TYPE_CHECKING:
    from chaosext.lab.lab import Lab

log = logging.getLogger("meshdrill.lab.meshcontrol")

WAYPOINT_CLASS = "istio-waypoint"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
MANAGED_BY = "lab.meshdrill.io/managed-by"
ROOT_NAMESPACE = "istio-system"
EASTWEST = "istio-eastwestgateway"
GATEWAY_API = kinds.by_kind("gateway.networking.k8s.io/v1", "Gateway")
SERVICE_ENTRY = kinds.by_kind("networking.istio.io/v1", "ServiceEntry")
_WATCHED = {kinds.SERVICE.key, kinds.DEPLOYMENT.key, kinds.NAMESPACE.key}
if GATEWAY_API is not None:
    _WATCHED.add(GATEWAY_API.key)

WaypointKey = tuple[str, str, str]  # cluster, namespace, name


def waypoint_objects(name: str, namespace: str, zone: str) -> list[Obj]:
    """The Deployment and Service istiod makes for a waypoint Gateway."""
    labels = {GATEWAY_NAME_LABEL: name, "istio.io/dataplane-mode": "none"}
    deployment = objects.proxy_deployment(
        name, namespace, labels, 15008, "waypoint", zone
    )
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "selector": {GATEWAY_NAME_LABEL: name},
            "ports": [
                {"name": "status-port", "port": 15021, "protocol": "TCP"},
                {"name": "mesh", "port": 15008, "protocol": "TCP"},
            ],
        },
    }
    for obj in (deployment, service):
        obj["metadata"]["annotations"] = {MANAGED_BY: "gateway"}
    return [deployment, service]


def eastwest_objects(cluster: Cluster, zone: str) -> list[Obj]:
    """The east-west gateway of a cluster's network: its Service (labelled with
    the network, given an address) is how istiod knows it (`mesh.kube`)."""
    labels = {
        "app": EASTWEST,
        "istio": "eastwestgateway",
        objects.NETWORK_LABEL: cluster.network,
        objects.REGION_LABEL: cluster.region,
        objects.ZONE_LABEL: zone,
    }
    deployment = objects.proxy_deployment(
        EASTWEST, ROOT_NAMESPACE, labels, 15443, "gateway", zone
    )
    ports = [("status-port", 15021), ("tls", 15443), ("tls-hbone", 15008)]
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": EASTWEST, "namespace": ROOT_NAMESPACE, "labels": labels},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"istio": "eastwestgateway"},
            "ports": [
                {"name": n, "port": p, "targetPort": p, "protocol": "TCP"}
                for n, p in ports
            ],
        },
        "status": objects.load_balancer_status(),
    }
    return [deployment, service]


def service_entry(service: Obj) -> Obj:
    """The `autogen` ServiceEntry for a global Service."""
    meta = service["metadata"]
    name, ns = meta["name"], meta["namespace"]
    ports = [
        {
            "number": int(p.get("port", 80)),
            "name": str(p.get("name") or f"port-{p.get('port', 80)}"),
            "protocol": "HTTP",
        }
        for p in service["spec"].get("ports") or []
    ]
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {
            "name": f"autogen.{ns}.{name}",
            "namespace": ROOT_NAMESPACE,
            "labels": {GLOBAL_SCOPE_LABEL: "global"},
            "annotations": {MANAGED_BY: "peering"},
        },
        "spec": {
            "hosts": [f"{name}.{ns}.mesh.internal"],
            "ports": ports,
            "location": "MESH_INTERNAL",
            "resolution": "STATIC",
            "workloadSelector": {"labels": dict(service["spec"].get("selector") or {})},
        },
    }


def is_global(service: Obj) -> bool:
    labels = service["metadata"].get("labels") or {}
    return labels.get(GLOBAL_SCOPE_LABEL) == "global"


class MeshControl:
    """The reactions above, for every cluster of a lab."""

    def __init__(
        self,
        lab: "Lab",
        waypoints: MutableMapping[WaypointKey, WaypointRef],
        admit: Callable[[Store, Obj], Obj],
    ) -> None:
        self.lab = lab
        self.waypoints = waypoints
        self.static = set(waypoints)  # the topology's own waypoints always route
        self.admit = admit
        self.stores = {name: rt.store for name, rt in lab.clusters.items()}
        self._handle: asyncio.Handle | None = None
        for store in self.stores.values():
            store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind.key in _WATCHED and self._handle is None:
            self._handle = asyncio.get_running_loop().call_soon(self.reconcile)

    def reconcile(self) -> None:
        self._handle = None
        try:
            for cluster, store in self.stores.items():
                self._waypoints(cluster, store)
            self._service_entries()
        except ApiError as exc:  # a race with a user's write: the next event retries
            log.debug("mesh control: %s", exc)

    # -- waypoints ----------------------------------------------------------------

    def _zone(self, cluster: str, namespace: str, name: str) -> str:
        for wp in self.lab.topology.waypoints:
            if (wp.cluster, wp.namespace, wp.name) == (cluster, namespace, name):
                return wp.zone
        return self.lab.topology.cluster(cluster).zones[0]

    def _waypoints(self, cluster: str, store: Store) -> None:
        wanted: set[tuple[str, str]] = set()
        if GATEWAY_API is not None:
            for gateway in list(store.objects(GATEWAY_API)):
                if (gateway.get("spec") or {}).get("gatewayClassName") != (
                    WAYPOINT_CLASS
                ):
                    continue
                meta = gateway["metadata"]
                ns, name = meta["namespace"], meta["name"]
                wanted.add((ns, name))
                zone = self._zone(cluster, ns, name)
                for obj in waypoint_objects(name, ns, zone):
                    kind = kinds.by_kind(obj["apiVersion"], obj["kind"])
                    assert kind is not None
                    if store.peek(kind, ns, name) is None:
                        self.admit(store, obj)
                self._gateway_status(store, gateway)
        for deploy in list(store.objects(kinds.DEPLOYMENT)):
            meta = deploy["metadata"]
            key = (cluster, meta["namespace"], meta["name"])
            if (meta.get("annotations") or {}).get(MANAGED_BY) != "gateway":
                continue
            if (meta["namespace"], meta["name"]) not in wanted:
                for kind in (kinds.DEPLOYMENT, kinds.SERVICE):
                    if store.peek(kind, *key[1:]) is not None:
                        store.delete(kind, *key[1:])
                if key not in self.static:
                    self.waypoints.pop(key, None)
                continue
            ready = (deploy.get("status") or {}).get("readyReplicas", 0) > 0
            if ready and key not in self.waypoints:
                zone = self._zone(*key)
                proxy = self.lab.proxy_for(
                    "waypoint", key[2], cluster, zone, {}, key[1]
                )
                self.waypoints[key] = WaypointRef(key[2], key[1], proxy)
                log.info("waypoint %s/%s in %s routes", key[1], key[2], cluster)
            elif not ready and key not in self.static:
                self.waypoints.pop(key, None)

    @staticmethod
    def _gateway_status(store: Store, gateway: Obj) -> None:
        if (gateway.get("status") or {}).get("conditions"):
            return
        meta = gateway["metadata"]
        generation = meta.get("generation", 1)

        def programmed(obj: Obj) -> None:
            now = obj["metadata"]["creationTimestamp"]
            obj["status"] = {
                "conditions": [
                    {
                        "type": kind,
                        "status": "True",
                        "reason": kind,
                        "message": "Resource " + kind.lower(),
                        "observedGeneration": generation,
                        "lastTransitionTime": now,
                    }
                    for kind in ("Accepted", "Programmed")
                ],
                "addresses": [
                    {
                        "type": "Hostname",
                        "value": f"{meta['name']}.{meta['namespace']}"
                        ".svc.cluster.local",
                    }
                ],
            }

        assert GATEWAY_API is not None
        store.mutate(GATEWAY_API, meta["namespace"], meta["name"], programmed)

    # -- global services ----------------------------------------------------------

    def _service_entries(self) -> None:
        if SERVICE_ENTRY is None:
            return
        wanted: dict[str, Obj] = {}
        for store in self.stores.values():
            for service in store.objects(kinds.SERVICE):
                if is_global(service):
                    entry = service_entry(service)
                    wanted.setdefault(entry["metadata"]["name"], entry)
        for store in self.stores.values():
            if store.peek(kinds.NAMESPACE, "", ROOT_NAMESPACE) is None:
                continue
            for name, entry in wanted.items():
                if store.peek(SERVICE_ENTRY, ROOT_NAMESPACE, name) is None:
                    self.admit(store, dict(entry))
            for existing in list(store.objects(SERVICE_ENTRY, ROOT_NAMESPACE)):
                meta = existing["metadata"]
                managed = (meta.get("annotations") or {}).get(MANAGED_BY)
                if managed == "peering" and meta["name"] not in wanted:
                    store.delete(SERVICE_ENTRY, ROOT_NAMESPACE, meta["name"])


def attach(lab: "Lab", waypoints: MutableMapping[WaypointKey, WaypointRef]) -> Any:
    """Start reacting (and react once to what the topology seeded)."""
    from chaosext.lab.lab import seed

    control = MeshControl(lab, waypoints, seed)
    control.reconcile()
    return control
