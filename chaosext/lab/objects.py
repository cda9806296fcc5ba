"""Kubernetes objects a topology puts in each cluster: namespaces, nodes,
deployments and services of workloads, gateways and clients."""

import platform
import uuid
from typing import Any

from chaosext.lab.store import Obj, timestamp
from chaosext.lab.topology import Cluster, Node, Topology, Workload
from chaosext.mesh import names

KUBE_VERSION = "v1.32.0"

REGION_LABEL = names.REGION
ZONE_LABEL = names.ZONE
SUBZONE_LABEL = names.SUBZONE
NETWORK_LABEL = names.NETWORK
HOSTNAME_LABEL = names.HOSTNAME

# Lab-only annotations (described in chaosext.mesh.names)
FAULT_ANNOTATION = names.LAB_FAULT
HOSTS_ANNOTATION = names.LAB_HOSTS
ROLE_ANNOTATION = names.LAB_ROLE
ADDRESS_ANNOTATION = names.LAB_ADDRESS
PROXY_ANNOTATION = names.LAB_PROXY
SIDECAR_STATUS = '{"containers":["istio-proxy"],"initContainers":["istio-init"]}'


def namespace(name: str, labels: dict[str, str], annotations: dict[str, str]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
    }


def node(cluster: Cluster, spec: Node) -> Obj:
    labels = {
        HOSTNAME_LABEL: spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        REGION_LABEL: cluster.region,
        ZONE_LABEL: spec.zone,
        NETWORK_LABEL: cluster.network,
    }
    if spec.subzone:
        labels[SUBZONE_LABEL] = spec.subzone
    labels.update(spec.labels)
    now = timestamp()
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {"providerID": f"lab://{cluster.name}/{spec.name}"},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": spec.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, spec.name).hex,
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, spec.name)),
                "bootID": str(uuid.uuid4()),
                "kernelVersion": platform.release(),
                "osImage": "meshdrill lab",
                "containerRuntimeVersion": "lab://0.1.0",
                "kubeletVersion": KUBE_VERSION,
                "kubeProxyVersion": KUBE_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def deployment(
    name: str,
    ns: str,
    labels: dict[str, str],
    replicas: int,
    container: dict[str, Any],
    template_annotations: dict[str, str] | None = None,
    node_selector: dict[str, str] | None = None,
) -> Obj:
    pod_spec: dict[str, Any] = {"containers": [container]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    template_meta: dict[str, Any] = {"labels": dict(labels)}
    if template_annotations:
        template_meta["annotations"] = template_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def workload_deployment(workload: Workload, replicas: int) -> Obj:
    container = {
        "name": "hello-app",
        "image": workload.image,
        "ports": [{"containerPort": workload.port, "protocol": "TCP"}],
    }
    return deployment(
        workload.name, workload.namespace, dict(workload.labels), replicas, container
    )


def workload_service(workload: Workload) -> Obj | None:
    spec = workload.service
    if spec is None:
        return None
    annotations = dict(spec.annotations)
    if spec.hosts:
        annotations[HOSTS_ANNOTATION] = ",".join(spec.hosts)
    service_spec: dict[str, Any] = {
        "selector": dict(workload.labels),
        "ports": [
            {
                "name": "http",
                "port": spec.port,
                "targetPort": spec.target_port,
                "protocol": "TCP",
            }
        ],
    }
    if spec.traffic_distribution:
        service_spec["trafficDistribution"] = spec.traffic_distribution
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": workload.name,
            "namespace": workload.namespace,
            "labels": dict(workload.labels) | dict(spec.labels),
            "annotations": annotations,
        },
        "spec": service_spec,
    }


def kubernetes_service() -> Obj:
    """`default/kubernetes`, as every cluster has (it gets the first cluster IP)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "ports": [
                {"name": "https", "port": 443, "targetPort": 6443, "protocol": "TCP"}
            ]
        },
    }


PROXY_IMAGE = "docker.io/istio/proxyv2:1.30.3"


def proxy_deployment(
    name: str, ns: str, labels: dict[str, str], port: int, role: str, zone: str
) -> Obj:
    """One replica of Istio's proxy image in `zone`: a gateway, waypoint or the
    east-west gateway (`role`: the lab's role annotation; it serves nothing)."""
    container = {
        "name": "istio-proxy",
        "image": PROXY_IMAGE,
        "ports": [{"containerPort": port, "protocol": "TCP"}],
    }
    return deployment(
        name, ns, labels, 1, container, {ROLE_ANNOTATION: role}, {ZONE_LABEL: zone}
    )


def gateway_deployment(name: str, ns: str, labels: dict[str, str], zone: str) -> Obj:
    return proxy_deployment(name, ns, labels, 8080, "gateway", zone)


def gateway_service(name: str, ns: str, labels: dict[str, str], port: int) -> Obj:
    """A LoadBalancer Service whose port is the gateway's real port on 127.0.0.1."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": dict(labels)},
        "spec": {
            "type": "LoadBalancer",
            "selector": dict(labels),
            "ports": [
                {"name": "http2", "port": port, "targetPort": 8080, "protocol": "TCP"}
            ],
        },
    }


def load_balancer_status() -> dict[str, Any]:
    return {"loadBalancer": {"ingress": [{"ip": "127.0.0.1", "ipMode": "VIP"}]}}


def client_deployment(
    name: str, ns: str, labels: dict[str, str], zone: str, proxy: str
) -> Obj:
    container = {
        "name": name,
        "image": "curlimages/curl:8.11.0",
        "command": ["sleep", "infinity"],
    }
    annotations = {ROLE_ANNOTATION: "client", PROXY_ANNOTATION: proxy}
    if proxy == "sidecar":  # as Istio's injector marks the pods it injects
        annotations[names.SIDECAR_STATUS] = SIDECAR_STATUS
    return deployment(name, ns, labels, 1, container, annotations, {ZONE_LABEL: zone})


def for_cluster(topology: Topology, cluster: Cluster) -> list[tuple[str, Obj]]:
    """(kind name, object) for everything the topology declares in one cluster,
    except the gateways' Services (they need the gateways' real ports)."""
    out: list[tuple[str, Obj]] = []
    for ns in topology.namespaces:
        labels = dict(ns.labels)
        if ns.name == names.ROOT_NAMESPACE:
            labels.setdefault(NETWORK_LABEL, cluster.network)
        out.append(("Namespace", namespace(ns.name, labels, dict(ns.annotations))))
    out += [("Node", node(cluster, spec)) for spec in cluster.nodes]
    out.append(("Service", kubernetes_service()))
    for workload in topology.workloads:
        if cluster.name not in workload.replicas:
            continue
        out.append(
            (
                "Deployment",
                workload_deployment(workload, workload.replicas[cluster.name]),
            )
        )
        service = workload_service(workload)
        if service is not None:
            out.append(("Service", service))
    for gateway in topology.gateways:
        if gateway.cluster == cluster.name:
            out.append(
                (
                    "Deployment",
                    gateway_deployment(
                        gateway.name,
                        gateway.namespace,
                        dict(gateway.labels),
                        gateway.zone,
                    ),
                )
            )
    for client in topology.clients:
        if client.cluster == cluster.name:
            out.append(
                (
                    "Deployment",
                    client_deployment(
                        client.name,
                        client.namespace,
                        dict(client.labels),
                        client.zone,
                        client.proxy,
                    ),
                )
            )
    return out
