"""Lab plugin: client pods you can `kubectl exec` into, their mesh proxies, waypoints.

`attach(lab)` (listed in `lab.PLUGINS`) does three things before the lab listens:
1. seeds one Deployment per topology `waypoints:` entry (1 replica pinned to its
   zone, so `kubectl rollout status deployment/<waypoint>` works);
2. starts one `ClientProxy` per topology `clients:` entry (the client Deployments
   themselves come from the topology, `objects.client_deployment`);
3. serves `pods/{name}/exec` on every cluster's API server, only into client pods,
   with `http_proxy` pointing at that client's proxy (`exec.serve_exec`).
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from chaosext import mesh
from chaosext.lab import accesslog, kinds, meshcontrol, objects, rest
from chaosext.lab import exec as labexec
from chaosext.lab.accesslog import ProxyLog
from chaosext.lab.clientproxy import ClientProxy, Mesh, WaypointRef
from chaosext.lab.kubelet import is_ready
from chaosext.lab.store import Obj, Store
from chaosext.lab.topology import Client, Topology, Waypoint

if TYPE_CHECKING:  # lab.py imports plugins by name at run time: no import cycle
    from chaosext.lab.lab import Lab

WAYPOINT_ROLE = "waypoint"
EXEC_TIMEOUT = 300.0  # seconds an exec'd command may run


def waypoint_deployment(waypoint: Waypoint) -> Obj:
    """The waypoint's Deployment, as istiod would create it for the Gateway."""
    return objects.proxy_deployment(
        waypoint.name,
        waypoint.namespace,
        dict(waypoint.labels),
        15008,
        WAYPOINT_ROLE,
        waypoint.zone,
    )


def client_of(topology: Topology, cluster: str, pod: Obj) -> Client | None:
    """The topology client a pod belongs to (its Deployment's labels), if any."""
    meta = pod["metadata"]
    annotations = meta.get("annotations") or {}
    if annotations.get(objects.ROLE_ANNOTATION) != "client":
        return None
    labels = meta.get("labels") or {}
    for client in topology.clients:
        if client.cluster != cluster or client.namespace != meta["namespace"]:
            continue
        if all(labels.get(k) == v for k, v in client.labels.items()):
            return client
    return None


def client_identity(lab: "Lab", client: Client) -> mesh.Proxy:
    """The mesh Proxy that chooses for a client: its sidecar (Envoy), or, for
    ztunnel and waypoint clients, the client workload ztunnel ranks against."""
    kind = "sidecar" if client.proxy == "sidecar" else "ztunnel"
    return lab.proxy_for(
        kind,
        client.name,
        client.cluster,
        client.zone,
        dict(client.labels),
        client.namespace,
    )


class ExecResolver:
    """Which pods of one cluster exec may run in, and with which proxy."""

    def __init__(
        self,
        topology: Topology,
        cluster: str,
        store: Store,
        proxies: Mapping[tuple[str, str, str], ClientProxy],
    ) -> None:
        self.topology = topology
        self.cluster = cluster
        self.store = store
        self.proxies = proxies

    def __call__(self, namespace: str, name: str) -> labexec.ExecTarget:
        pod = self.store.peek(kinds.POD, namespace, name)
        if pod is None:
            raise labexec.not_found(namespace, name)
        client = client_of(self.topology, self.cluster, pod)
        if client is None:
            declared = [
                f"{c.namespace}/{c.name}"
                for c in self.topology.clients
                if c.cluster == self.cluster
            ]
            raise labexec.forbidden(
                namespace,
                name,
                "the lab runs commands only in the client pods its topology "
                f"declares (clients: in cluster {self.cluster}: "
                f"{', '.join(declared) or 'none'})",
            )
        phase = (pod.get("status") or {}).get("phase")
        if phase != "Running":
            raise labexec.ExecRefused(
                400,
                "BadRequest",
                f"pod {name} in cluster {self.cluster} is not running "
                f"(phase {phase or 'Pending'}): wait until it is Running",
            )
        proxy = self.proxies[(client.cluster, client.namespace, client.name)]
        containers = tuple(c["name"] for c in pod["spec"].get("containers") or [])
        return labexec.ExecTarget(namespace, name, containers, proxy.url)


def waypoint_refs(lab: "Lab") -> dict[tuple[str, str, str], WaypointRef]:
    """(cluster, namespace, name) -> the waypoint's mesh Proxy, for every waypoint."""
    refs: dict[tuple[str, str, str], WaypointRef] = {}
    for wp in lab.topology.waypoints:
        identity = lab.proxy_for(
            "waypoint", wp.name, wp.cluster, wp.zone, dict(wp.labels), wp.namespace
        )
        refs[(wp.cluster, wp.namespace, wp.name)] = WaypointRef(
            wp.name, wp.namespace, identity
        )
    return refs


def waypoint_access_log(lab: "Lab", cluster: str, ref: WaypointRef) -> ProxyLog | None:
    """The access log of the waypoint Deployment's first ready pod in `cluster`,
    when access logging is on for it (`accesslog.enabled`); else None."""
    store = lab.clusters[cluster].store
    deploy = store.peek(kinds.DEPLOYMENT, ref.namespace, ref.name)
    if deploy is None:
        return None
    wanted = (deploy["spec"].get("selector") or {}).get("matchLabels") or {}
    pods = sorted(
        (
            p
            for p in store.objects(kinds.POD, ref.namespace)
            if wanted
            and all((p["metadata"].get("labels") or {}).get(k) == v
                    for k, v in wanted.items())
            and is_ready(p)
        ),
        key=lambda p: p["metadata"]["name"],
    )  # fmt: skip
    if not pods:
        return None
    labels = pods[0]["metadata"].get("labels") or {}
    mesh_file = str(lab.topology.mesh.get("accessLogFile") or "")
    if not accesslog.enabled(store, ref.namespace, labels, ref.name, mesh_file):
        return None
    kubelet = lab.clusters[cluster].kubelet
    return kubelet.proxy_log((ref.namespace, pods[0]["metadata"]["name"]))


async def attach(lab: "Lab") -> None:
    """Seed waypoints, start client proxies, serve exec on every API server."""
    from chaosext.lab.lab import seed

    topology = lab.topology
    for wp in topology.waypoints:
        seed(lab.clusters[wp.cluster].store, waypoint_deployment(wp))
    waypoints = lab.waypoints
    waypoints.update(waypoint_refs(lab))
    meshcontrol.attach(lab, waypoints)
    shared = Mesh(
        {name: rt.store for name, rt in lab.clusters.items()},
        waypoints,
        lab.upstream,
        lambda cluster, ref: waypoint_access_log(lab, cluster, ref),
    )
    await shared.start()
    proxies: dict[tuple[str, str, str], ClientProxy] = {}
    for client in topology.clients:
        client_proxy = ClientProxy(
            shared, client_identity(lab, client), client.namespace, client.proxy
        )
        await client_proxy.start()
        proxies[(client.cluster, client.namespace, client.name)] = client_proxy

    async def stop() -> None:
        for each in proxies.values():
            await each.stop()
        await shared.stop()

    lab.on_stop(stop)
    for name, runtime in lab.clusters.items():
        resolver = ExecResolver(topology, name, runtime.store, proxies)
        runtime.api.add_subresource("", "pods", "exec", _ExecRoute(resolver))


class _ExecRoute:
    """The API server's subresource handler for `pods/{name}/exec`."""

    def __init__(self, resolver: ExecResolver) -> None:
        self.resolver = resolver

    async def __call__(
        self, request: web.Request, call: rest.Call
    ) -> web.StreamResponse:
        assert call.name is not None
        return await labexec.serve_exec(
            request, call.namespace or "default", call.name, self.resolver, EXEC_TIMEOUT
        )
