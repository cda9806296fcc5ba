"""How istiod reads Kubernetes objects: hosts, endpoints, traffic distribution,
waypoints and a pod's data plane, as pure functions of the objects' JSON.

Used by the lab's control plane and by the live reader (`chaosext.live`), so the
lab and a real mesh are read by one set of rules. Objects are plain dicts shaped as
the Kubernetes API returns them (camelCase, `metadata`/`spec`/`status`).

Sources: [I] istio/istio 1.30 `pilot/pkg/serviceregistry/kube/controller`
(endpoints, locality from node labels), `pilot/pkg/model/service.go`
(`GetTrafficDistribution`: spec field > Service annotation > Namespace annotation),
`pkg/config/constants` (labels), and the ambient `ambientindex` (waypoint use:
Service label, else Namespace label; `none` opts out).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from chaosext.mesh import names
from chaosext.mesh.types import Endpoint, Locality, NetworkGateway, Proxy

Obj = Mapping[str, Any]

SIDECAR = "sidecar"
ZTUNNEL = "ztunnel"
GATEWAY = "gateway"
WAYPOINT = "waypoint"
NO_MESH = "none"


def _meta(obj: Obj | None, key: str) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get(key) or {}


def object_meta(
    name: str,
    namespace: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`metadata` for an object to create: name, namespace, labels, annotations
    (the last two only when given)."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    return metadata


def labels(obj: Obj | None) -> Mapping[str, str]:
    """`metadata.labels` ({} when absent)."""
    return _meta(obj, "labels")


def annotations(obj: Obj | None) -> Mapping[str, str]:
    """`metadata.annotations` ({} when absent)."""
    return _meta(obj, "annotations")


def service_hosts(service: Obj) -> set[str]:
    """The mesh hosts a Service serves: `<svc>.<ns>.svc.cluster.local`, the lab's
    extra hosts (`lab.meshdrill.io/hosts`), and `<svc>.<ns>.mesh.internal` for a
    Service labelled `solo.io/service-scope=global` (guide 001's global service)."""
    meta = service["metadata"]
    name, ns = meta["name"], meta["namespace"]
    hosts = {f"{name}.{ns}.{names.CLUSTER_DOMAIN}"}
    extra = annotations(service).get(names.LAB_HOSTS, "")
    hosts.update(h.strip() for h in extra.split(",") if h.strip())
    if labels(service).get(names.SERVICE_SCOPE) == names.SERVICE_SCOPE_GLOBAL:
        hosts.add(f"{name}.{ns}.{names.GLOBAL_DOMAIN}")
    return hosts


def candidate_hosts(host: str, namespace: str) -> list[str]:
    """The mesh hosts a name may mean from a pod in `namespace` (DNS search path):
    `reviews`, `reviews.shop`, `reviews.shop.svc` complete to the cluster domain."""
    host = host.rstrip(".").lower()
    out = [host]
    dots = host.count(".")
    if dots == 0:
        out.append(f"{host}.{namespace}.{names.CLUSTER_DOMAIN}")
    elif dots == 1:
        out.append(f"{host}.{names.CLUSTER_DOMAIN}")
    elif host.endswith(".svc"):
        out.append(f"{host}.cluster.local")
    return out


def bare_host(given: str) -> str:
    """The host part of a name, `name:port` or URL."""
    return given.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]


def is_ready(pod: Obj) -> bool:
    """The pod's `Ready` condition is True."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False


def is_live(pod: Obj) -> bool:
    """Scheduled and not terminating: istiod drops Terminating pods always."""
    meta = pod.get("metadata") or {}
    return bool((pod.get("spec") or {}).get("nodeName")) and not meta.get(
        "deletionTimestamp"
    )


def selects(service: Obj, pod: Obj) -> bool:
    """The Service's selector matches the pod (a Service without one selects none)."""
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return False
    pod_labels = labels(pod)
    return all(pod_labels.get(k) == v for k, v in selector.items())


def locality_of(node_labels: Mapping[str, str]) -> Locality:
    """Region/zone/subzone from a node's labels."""
    return Locality(
        node_labels.get(names.REGION, ""),
        node_labels.get(names.ZONE, ""),
        node_labels.get(names.SUBZONE, ""),
    )


def network_of(pod: Obj, node_labels: Mapping[str, str], default: str) -> str:
    """The pod's network: its `topology.istio.io/network` label, else its node's,
    else the cluster's (`default`, from the system namespace's label)."""
    return labels(pod).get(names.NETWORK) or node_labels.get(names.NETWORK) or default


def endpoint(
    pod: Obj,
    node_labels: Mapping[str, str],
    cluster: str,
    default_network: str,
    ready: bool | None = None,
) -> Endpoint:
    """The mesh Endpoint for a live pod (`ready` defaults to its Ready condition)."""
    meta = pod["metadata"]
    return Endpoint(
        name=meta["name"],
        cluster=cluster,
        network=network_of(pod, node_labels, default_network),
        locality=locality_of(node_labels),
        labels=dict(labels(pod)),
        node=str((pod.get("spec") or {}).get("nodeName") or ""),
        ready=is_ready(pod) if ready is None else ready,
        mtls=has_mtls(pod),
    )


def has_mtls(pod: Obj) -> bool:
    """Whether istiod sends Istio mTLS to the pod: its `security.istio.io/tlsMode`
    label is `istio`. The lab's and the model's pods are in the mesh, so a pod
    without the label counts as `istio` here; label it `disabled` to say otherwise.
    """
    return labels(pod).get(names.TLS_MODE, names.TLS_MODE_ISTIO) == (
        names.TLS_MODE_ISTIO
    )


HBONE_PORT = 15008
"""A network gateway Service with this port takes HBONE (ambient, waypoints)."""


def gateway_addresses(service: Obj) -> list[str]:
    """A network gateway Service's addresses: its load-balancer ingress IPs (or
    host names) when it is labelled `topology.istio.io/network` (istiod's registry
    gateways); [] otherwise."""
    if not labels(service).get(names.NETWORK):
        return []
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get(
        "ingress"
    ) or []
    return [
        str(i.get("ip") or i.get("hostname"))
        for i in ingress
        if i.get("ip") or i.get("hostname")
    ]


def gateway_network(service: Obj) -> str | None:
    """The network `service` is a gateway of for istiod: its
    `topology.istio.io/network` label when it has an address
    (`gateway_addresses`); None otherwise."""
    if not gateway_addresses(service):
        return None
    return labels(service)[names.NETWORK]


def ready_behind(service: Obj, pods: Iterable[Obj]) -> int:
    """How many of `pods` are live, ready and selected by `service` in its
    namespace: the pods a gateway Service's load balancer can send to."""
    namespace = service["metadata"].get("namespace")
    return sum(
        1
        for pod in pods
        if pod["metadata"].get("namespace") == namespace
        and selects(service, pod)
        and is_live(pod)
        and is_ready(pod)
    )


def network_gateways(
    cluster: str,
    service: Obj,
    pods: Iterable[Obj],
    node_labels: Mapping[str, Mapping[str, str]],
) -> list[NetworkGateway]:
    """The east-west gateways a Service gives (one per address), each with the
    Envoy of its first live pod (by name; the Service's own region and zone labels
    when it has none) as the proxy that chooses the remote endpoint."""
    addresses = gateway_addresses(service)
    if not addresses:
        return []
    meta = service["metadata"]
    network = labels(service)[names.NETWORK]
    mine = sorted(
        (p for p in pods if is_live(p) and selects(service, p)),
        key=lambda p: p["metadata"]["name"],
    )
    if mine:
        pod = mine[0]
        node = str(pod["spec"].get("nodeName") or "")
        where = locality_of(node_labels.get(node, {}))
        name, pod_labels = pod["metadata"]["name"], dict(labels(pod))
    else:
        node, where = "", locality_of(labels(service))
        name, pod_labels = meta["name"], dict(labels(service))
    proxy = Proxy(
        "gateway", name, cluster, network, where, pod_labels, node, meta["namespace"]
    )
    base = f"{cluster}/{meta['namespace']}/{meta['name']}"
    ports = (service.get("spec") or {}).get("ports") or []
    hbone = any(int(p.get("port") or 0) == HBONE_PORT for p in ports)
    return [
        NetworkGateway(
            network, cluster, base if i == 0 else f"{base}#{i}", proxy, None, hbone
        )
        for i in range(len(addresses))
    ]


def traffic_distribution(service: Obj, namespace: Obj | None) -> str | None:
    """`GetTrafficDistribution`: `spec.trafficDistribution`, else the Service's
    `networking.istio.io/traffic-distribution` annotation, else its Namespace's."""
    value = (service.get("spec") or {}).get("trafficDistribution")
    value = value or annotations(service).get(names.TRAFFIC_DISTRIBUTION)
    value = value or annotations(namespace).get(names.TRAFFIC_DISTRIBUTION)
    return str(value) if value else None


def waypoint_of(service: Obj, namespace: Obj | None) -> str | None:
    """The waypoint a Service uses: its `istio.io/use-waypoint` label, else its
    Namespace's; `none` (or unset) means none."""
    value = labels(service).get(names.USE_WAYPOINT)
    if value is None:
        value = labels(namespace).get(names.USE_WAYPOINT)
    if not value or value == names.NO_WAYPOINT:
        return None
    return value


def is_waypoint(pod: Obj) -> bool:
    """A waypoint's pod: made for a Gateway (`gateway.networking.k8s.io/
    gateway-name`) by Istio's mesh controller, not its ingress controller."""
    pod_labels = labels(pod)
    return names.GATEWAY_NAME in pod_labels and (
        pod_labels.get(names.GATEWAY_MANAGED) != names.GATEWAY_MANAGED_INGRESS
    )


def is_gateway(pod: Obj) -> bool:
    """An Istio ingress gateway's pod (`istio: ...gateway`, or a Gateway API
    gateway made by Istio's ingress controller)."""
    pod_labels = labels(pod)
    if pod_labels.get(names.GATEWAY_MANAGED) == names.GATEWAY_MANAGED_INGRESS:
        return True
    return pod_labels.get(names.ISTIO_APP, "").endswith("gateway") and not (
        is_waypoint(pod)
    )


def has_sidecar(pod: Obj) -> bool:
    """Injected: an `istio-proxy` container (or init sidecar) or the injector's
    `sidecar.istio.io/status` annotation."""
    if names.SIDECAR_STATUS in annotations(pod):
        return True
    spec = pod.get("spec") or {}
    containers = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    return any(c.get("name") == names.SIDECAR_CONTAINER for c in containers)


def dataplane(pod: Obj, namespace: Obj | None) -> str:
    """The proxy that carries the pod's outbound traffic: `gateway`, `waypoint`,
    `sidecar`, `ztunnel` (ambient: the pod's `istio.io/dataplane-mode`, else its
    Namespace's; a sidecar wins over ambient), or `none` (not in the mesh)."""
    if is_waypoint(pod):
        return WAYPOINT
    if is_gateway(pod):
        return GATEWAY
    if has_sidecar(pod):
        return SIDECAR
    mode = labels(pod).get(names.DATAPLANE_MODE)
    if mode is None:
        mode = labels(namespace).get(names.DATAPLANE_MODE)
    return ZTUNNEL if mode == names.DATAPLANE_AMBIENT else NO_MESH
