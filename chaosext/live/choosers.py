"""Which proxy chooses the endpoint when a client calls a host, from the labels
Istio itself reads: a gateway's or waypoint's own Envoy; a pod's injected sidecar;
ztunnel for an ambient pod, or the waypoint its destination uses
(`istio.io/use-waypoint` on the Service, else its Namespace) in the client's own
cluster. Pure: it reads a `MeshState`.
"""

from dataclasses import dataclass

from chaosext import mesh
from chaosext.live.state import MeshState, Obj, StateError
from chaosext.mesh import kube, names

DEPLOYMENT_KINDS = ("deploy", "deployment", "deployments")
POD_KINDS = ("pod", "pods", "po")


@dataclass(frozen=True)
class Chooser:
    """The proxy that chooses, how it was found (`via`), and whether it is L4 only."""

    proxy: mesh.Proxy
    via: str
    l4_only: bool = False
    waypoint: str | None = None


def client_pod(state: MeshState, context: str, ref: str, namespace: str = "") -> Obj:
    """The pod `ref` names in `context`: `NAME`, `pod/NAME`, `deploy/NAME` (its first
    live pod), or a bare Deployment name (a gateway's, a waypoint's, a client's).
    `namespace` narrows the search; StateError lists what exists."""
    objects = state.cluster(context)
    kind, _, name = ref.rpartition("/")
    if kind and kind not in (*DEPLOYMENT_KINDS, *POD_KINDS):
        raise StateError(f"client {ref!r}: use NAME, pod/NAME or deploy/NAME")
    if kind not in DEPLOYMENT_KINDS:
        pods = [
            p
            for p in objects.pods
            if p["metadata"]["name"] == name
            and (not namespace or p["metadata"]["namespace"] == namespace)
            and kube.is_live(p)
        ]
        if len(pods) == 1:
            return pods[0]
        if kind in POD_KINDS:
            raise StateError(
                f"no pod {name!r} in context {context}"
                + (f" namespace {namespace}" if namespace else "")
            )
    namespaces = sorted(
        {
            d["metadata"]["namespace"]
            for d in objects.deployments
            if d["metadata"]["name"] == name
            and (not namespace or d["metadata"]["namespace"] == namespace)
        }
    )
    if len(namespaces) > 1:
        raise StateError(
            f"client {ref!r} is a Deployment in several namespaces of context "
            f"{context} ({', '.join(namespaces)}): name one with --namespace"
        )
    if namespaces:
        pods = state.deployment_pods(context, namespaces[0], name)
        ready = [p for p in pods if kube.is_ready(p)] or pods
        if ready:
            return ready[0]
        raise StateError(
            f"deployment {namespaces[0]}/{name} has no live pod in context {context}"
        )
    raise StateError(
        f"no pod or deployment {ref!r} in context {context} (deployments: "
        f"{', '.join(state.names_in(context)) or 'none'})"
    )


def waypoint_pod(state: MeshState, context: str, namespace: str, name: str) -> Obj:
    """The ready pod of waypoint `namespace/name` in `context` (else any live one)."""
    pods = [
        p
        for p in state.cluster(context).pods
        if p["metadata"]["namespace"] == namespace
        and kube.labels(p).get(names.GATEWAY_NAME) == name
        and kube.is_live(p)
    ]
    pods.sort(key=lambda p: (not kube.is_ready(p), p["metadata"]["name"]))
    if not pods:
        raise StateError(
            f"waypoint {namespace}/{name} does not run in context {context} "
            f"(no pod labelled {names.GATEWAY_NAME}={name})"
        )
    return pods[0]


def choose(state: MeshState, context: str, pod: Obj, host: str) -> Chooser:
    """The proxy that picks the endpoint when `pod` (in `context`) calls `host`."""
    meta = pod["metadata"]
    name = meta["name"]
    namespace = state.cluster(context).namespaces.get(meta["namespace"])
    mode = kube.dataplane(pod, namespace)
    if mode in (kube.GATEWAY, kube.WAYPOINT, kube.SIDECAR):
        via = {
            kube.GATEWAY: f"gateway {name}",
            kube.WAYPOINT: f"waypoint {name}",
            kube.SIDECAR: f"client {name} (sidecar)",
        }[mode]
        return Chooser(state.proxy_of(context, pod, mode), via)
    if mode == kube.NO_MESH:
        raise StateError(
            f"pod {meta['namespace']}/{name} in context {context} is not in the mesh: "
            f"no {names.SIDECAR_CONTAINER} sidecar, and neither it nor its namespace "
            f"has {names.DATAPLANE_MODE}={names.DATAPLANE_AMBIENT}"
        )
    owner, service = state.owner_service(host, context)
    service_ns = service["metadata"]["namespace"]
    service_namespace = state.clusters[owner].namespaces.get(service_ns)
    waypoint = kube.waypoint_of(service, service_namespace)
    if waypoint is None:
        return Chooser(
            state.proxy_of(context, pod, kube.ZTUNNEL),
            f"client {name} (ztunnel)",
            l4_only=True,
        )
    at = waypoint_pod(state, context, service_ns, waypoint)
    return Chooser(
        state.proxy_of(context, at, kube.WAYPOINT),
        f"client {name} (ztunnel) via waypoint {waypoint}",
        waypoint=waypoint,
    )
