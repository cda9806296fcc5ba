"""The whole lab in one event loop: per cluster a store, an API server, a controller
and a kubelet; across clusters the control plane (istiod) and the ingress gateways.

Extensions plug in through `PLUGINS`: modules with `async def attach(lab: Lab)`,
called after the clusters are built and before anything listens. A plugin can add
API subresources (`lab.clusters[name].api.add_subresource("", "pods", "exec", h)`),
build proxies (`lab.upstream(proxy, host)`), and register cleanups (`lab.on_stop`).
"""

import asyncio
import contextlib
import copy
import importlib
import logging
import random
import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from chaosext import mesh
from chaosext.lab import admission, kinds, meshcontrol, objects
from chaosext.lab.apiserver import ApiServer
from chaosext.lab.authz import Authorizer
from chaosext.lab.clientproxy import WaypointRef
from chaosext.lab.controller import Controller
from chaosext.lab.dataplane import Upstream
from chaosext.lab.endpoints import Address, ControlPlane
from chaosext.lab.gateway import IngressGateway
from chaosext.lab.groundtruth import GroundTruth
from chaosext.lab.kubelet import Kubelet
from chaosext.lab.routes import RouteTable
from chaosext.lab.store import Obj, Store
from chaosext.lab.topology import Cluster, Topology, settle_limit
from chaosext.mesh.virtualservice import Route

log = logging.getLogger("meshdrill.lab")

PLUGINS: tuple[str, ...] = (
    "chaosext.lab.clients",
    "chaosext.lab.sidecarfaults",
    "chaosext.lab.routes",
    "chaosext.lab.istiod",
    "chaosext.lab.eastwest",
)
"""Modules with `async def attach(lab: Lab) -> None` (e.g. exec, client proxies)."""


@dataclass
class ClusterRuntime:
    spec: Cluster
    store: Store
    api: ApiServer
    controller: Controller
    kubelet: Kubelet


def seed(store: Store, obj: Obj) -> Obj:
    """Create one object as the API would (defaults and validation included)."""
    kind = kinds.by_kind(obj["apiVersion"], obj["kind"])
    if kind is None:
        raise ValueError(f"unsupported {obj['apiVersion']} {obj['kind']}")
    if kind.namespaced:
        obj.setdefault("metadata", {}).setdefault("namespace", "default")
    return store.create(kind, admission.admit(store, kind, obj, None))


def seed_cluster(store: Store, topology: Topology, cluster: Cluster) -> None:
    """Every object `topology` declares for `cluster`, created in `store`: its
    namespaces, nodes, workloads, gateways' and clients' Deployments, then the
    `resources:` meant for it (deep copies). A Namespace in `resources:` that
    `namespaces:` already made adds its labels and annotations to it. A cluster
    with `eastwest:` gets its east-west gateway (`meshcontrol.eastwest_objects`,
    its Service with a load-balancer address). The one way a
    cluster is seeded: the running lab and `World.from_topology` (explain) both
    call it."""
    for _, obj in objects.for_cluster(topology, cluster):
        seed(store, obj)
    if cluster.eastwest is not None:
        for obj in meshcontrol.eastwest_objects(cluster, cluster.eastwest):
            seed(store, obj)
    for resources in topology.resources:
        if cluster.name not in resources.clusters:
            continue
        for obj in resources.objects:
            name = obj["metadata"]["name"]
            if obj["kind"] == "Namespace" and store.peek(kinds.NAMESPACE, "", name):
                store.mutate(kinds.NAMESPACE, "", name, _merge_metadata(obj))
                continue
            seed(store, copy.deepcopy(obj))


def _merge_metadata(extra: Obj) -> Callable[[Obj], None]:
    """A store change adding `extra`'s labels and annotations (theirs win)."""
    meta = extra.get("metadata") or {}

    def change(obj: Obj) -> None:
        for key in ("labels", "annotations"):
            if meta.get(key):
                merged = dict(obj["metadata"].get(key) or {})
                merged.update(meta[key])
                obj["metadata"][key] = merged

    return change


class Lab:
    """A running lab for one topology."""

    def __init__(
        self,
        topology: Topology,
        token: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        ground_truth: Path | None = None,
    ) -> None:
        """`ground_truth`: where to record routing changes (`groundtruth`)."""
        self.topology = topology
        self.ground_truth = ground_truth
        self.ssl_context = ssl_context
        self.token = token or secrets.token_urlsafe(24)
        self.rng = random.Random(topology.seed)
        self.clusters: dict[str, ClusterRuntime] = {}
        self.gateways: dict[str, IngressGateway] = {}
        self.waypoints: dict[tuple[str, str, str], WaypointRef] = {}
        """(cluster, namespace, name) -> the waypoints that route now (the
        topology's, and those made for waypoint Gateways: `meshcontrol`)."""
        self.networks_cut_off: set[str] = set()
        """Networks other networks cannot reach: no gateway Service istiod knows
        for them has a ready pod (`eastwest`)."""
        self.route_tables: dict[str, RouteTable] = {}
        """Each cluster's VirtualService routes, as its proxies have them (`routes`)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._cleanups: list[Callable[[], Awaitable[None]]] = []
        for spec in topology.clusters:
            store = Store(spec.name)
            api = ApiServer(store, self.token, Authorizer(topology.access))
            kubelet = Kubelet(store, topology.timing)
            api.add_subresource("", "pods", "log", kubelet.logs)
            self.clusters[spec.name] = ClusterRuntime(
                spec, store, api, Controller(store), kubelet
            )
        self.control_plane = ControlPlane(
            {name: rt.store for name, rt in self.clusters.items()},
            {c.name: c.network for c in topology.clusters},
            topology.mesh_locality_lb,
            topology.timing.propagation,
            self.address_of,
        )

    def address_of(self, cluster: str, namespace: str, pod: str) -> Address | None:
        """Where a pod's server listens, if it does."""
        return self.clusters[cluster].kubelet.address(namespace, pod)

    def upstream(self, proxy: mesh.Proxy, host: str) -> Upstream:
        """A Router for `host` as seen by `proxy`, fed by the control plane."""
        view = self.control_plane.view(host, proxy)
        rng = random.Random(self.rng.random())

        def route() -> Route | None:
            table = self.route_tables.get(proxy.cluster)
            return table.route(proxy, host) if table is not None else None

        return Upstream(proxy, view, rng, cut_off=self.networks_cut_off, route=route)

    def on_stop(self, cleanup: Callable[[], Awaitable[None]]) -> None:
        self._cleanups.append(cleanup)

    def proxy_for(
        self,
        kind: str,
        name: str,
        cluster: str,
        zone: str,
        labels: dict[str, str],
        namespace: str = "",
    ) -> mesh.Proxy:
        """A mesh Proxy in `namespace`, on the first node of `zone` in `cluster`."""
        spec = self.topology.cluster(cluster)
        node = next(n for n in spec.nodes if n.zone == zone)
        return mesh.Proxy(
            kind=kind,
            name=name,
            cluster=cluster,
            network=spec.network,
            locality=mesh.Locality(spec.region, zone, node.subzone),
            labels=labels,
            node=node.name,
            namespace=namespace,
        )

    async def start(self) -> None:
        """Seed every cluster, then start every server; returns once all listen."""
        for runtime in self.clusters.values():
            seed_cluster(runtime.store, self.topology, runtime.spec)
        for plugin in PLUGINS:
            await importlib.import_module(plugin).attach(self)
        for runtime in self.clusters.values():
            await runtime.api.start(self.ssl_context)
            self._tasks.append(asyncio.create_task(runtime.controller.run()))
            self._tasks.append(asyncio.create_task(runtime.kubelet.run()))
        for gw in self.topology.gateways:
            proxy = self.proxy_for(
                "gateway", gw.name, gw.cluster, gw.zone, dict(gw.labels), gw.namespace
            )
            gateway = IngressGateway(gw.name, self.upstream(proxy, gw.route))
            port = await gateway.start()
            self.gateways[gw.name] = gateway
            store = self.clusters[gw.cluster].store
            service = seed(
                store,
                objects.gateway_service(gw.name, gw.namespace, dict(gw.labels), port),
            )

            def publish(obj: Obj) -> None:
                obj["status"] = objects.load_balancer_status()

            store.mutate(
                kinds.SERVICE, gw.namespace, service["metadata"]["name"], publish
            )

        await self._settle()
        if self.ground_truth is not None:
            recorder = GroundTruth(self.ground_truth, self.control_plane)
            recorder.start(
                {name: rt.store for name, rt in self.clusters.items()},
                {name: rt.kubelet for name, rt in self.clusters.items()},
            )

            async def stop_recording() -> None:
                recorder.stop()

            self.on_stop(stop_recording)

    async def _settle(self) -> None:
        """Come up as a steady, already-running mesh: every seeded Deployment ready,
        and every proxy's view of it propagated, before anyone is told we listen."""
        timeout = settle_limit(self.topology)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not all(
            self._deployments_ready(rt.store) for rt in self.clusters.values()
        ):
            if loop.time() > deadline:
                raise TimeoutError(f"lab workloads not ready within {timeout} s")
            await asyncio.sleep(0.02)
        for runtime in self.clusters.values():
            runtime.kubelet.warming = False
        await asyncio.sleep(self.topology.timing.propagation)

    @staticmethod
    def _deployments_ready(store: Store) -> bool:
        return all(
            (d.get("status") or {}).get("readyReplicas", 0)
            == (d.get("spec") or {}).get("replicas", 1)
            for d in store.objects(kinds.DEPLOYMENT)
        )

    async def stop(self) -> None:
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                await cleanup()
        for gateway in self.gateways.values():
            await gateway.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runtime in self.clusters.values():
            await runtime.api.stop()
            await runtime.kubelet.stop()

    def urls(self) -> dict[str, str]:
        return {name: rt.api.url for name, rt in self.clusters.items()}

    def gateway_urls(self) -> dict[str, str]:
        return {name: gw.url for name, gw in self.gateways.items()}
