"""Server-side printing: `meta.k8s.io/v1 Table` answers for `kubectl get`.

Columns follow the real API server's printers (priority 1 columns are the ones
`-o wide` adds); kubectl adds namespace and `-L` label columns itself.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chaosext.lab import kinds, selectors
from chaosext.lab.store import Obj

Column = tuple[str, str, int, Callable[[Obj], Any]]  # name, type, priority, cell


def age(obj: Obj) -> str:
    """`kubectl`'s human duration since the creation timestamp."""
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return human_duration(int((datetime.now(UTC) - then).total_seconds()))


def human_duration(seconds: int) -> str:
    seconds = max(seconds, 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def _pod_ready(pod: Obj) -> str:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    total = len(pod["spec"].get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def pod_status(pod: Obj) -> str:
    """The STATUS column: Terminating, ContainerCreating, Running, Pending..."""
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status", {})
    for container in status.get("containerStatuses") or []:
        waiting = container.get("state", {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", "Waiting"))
    return str(status.get("reason") or status.get("phase", "Unknown"))


def _node_status(node: Obj) -> str:
    ready = next(
        (
            c
            for c in node.get("status", {}).get("conditions") or []
            if c["type"] == "Ready"
        ),
        None,
    )
    status = "Ready" if ready and ready["status"] == "True" else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _external_ip(svc: Obj) -> str:
    ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    ips = [i.get("ip") or i.get("hostname") for i in ingress]
    if ips:
        return ",".join(ip for ip in ips if ip)
    return "<pending>" if svc["spec"].get("type") == "LoadBalancer" else "<none>"


def _ports(svc: Obj) -> str:
    parts = []
    for port in svc["spec"].get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        parts.append(f"{port['port']}{node_port}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _address(node: Obj, kind: str) -> str:
    for address in node.get("status", {}).get("addresses") or []:
        if address["type"] == kind:
            return str(address["address"])
    return "<none>"


def _containers(deploy: Obj, field: str) -> str:
    containers = deploy["spec"]["template"]["spec"].get("containers") or []
    return ",".join(str(c.get(field, "")) for c in containers)


def _endpoints(obj: Obj) -> str:
    found = [
        f"{address['ip']}:{port['port']}"
        for subset in obj.get("subsets") or []
        for address in subset.get("addresses") or []
        for port in subset.get("ports") or []
    ]
    if not found:
        return "<none>"
    shown = ",".join(found[:3])
    return shown + (f" + {len(found) - 3} more..." if len(found) > 3 else "")


def _selector_text(selector: Any) -> str:
    if not selector:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in selector.items())


def _last_seen(event: Obj) -> str:
    stamp = event.get("lastTimestamp") or event.get("eventTime") or ""
    if not stamp:
        return "<unknown>"
    return age({"metadata": {"creationTimestamp": stamp[:19] + "Z"}})


def _involved(event: Obj) -> str:
    ref = event.get("involvedObject") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


def _source(event: Obj) -> str:
    source = event.get("source") or {}
    parts = [source.get("component") or event.get("reportingComponent", "")]
    if source.get("host"):
        parts.append(source["host"])
    return ", ".join(p for p in parts if p)


NAME: Column = ("Name", "string", 0, lambda o: o["metadata"]["name"])
AGE: Column = ("Age", "string", 0, age)

COLUMNS: dict[tuple[str, str], list[Column]] = {
    kinds.POD.key: [
        NAME,
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, pod_status),
        (
            "Restarts",
            "string",
            0,
            lambda o: str(
                sum(
                    s.get("restartCount", 0)
                    for s in o.get("status", {}).get("containerStatuses") or []
                )
            ),
        ),
        AGE,
        ("IP", "string", 1, lambda o: o.get("status", {}).get("podIP") or "<none>"),
        ("Node", "string", 1, lambda o: o["spec"].get("nodeName") or "<none>"),
        ("Nominated Node", "string", 1, lambda o: "<none>"),
        ("Readiness Gates", "string", 1, lambda o: "<none>"),
    ],
    kinds.NODE.key: [
        NAME,
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, lambda o: "<none>"),
        AGE,
        (
            "Version",
            "string",
            0,
            lambda o: o.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", ""),
        ),
        ("Internal-IP", "string", 1, lambda o: _address(o, "InternalIP")),
        ("External-IP", "string", 1, lambda o: _address(o, "ExternalIP")),
        (
            "OS-Image",
            "string",
            1,
            lambda o: o.get("status", {}).get("nodeInfo", {}).get("osImage", ""),
        ),
        (
            "Kernel-Version",
            "string",
            1,
            lambda o: o.get("status", {}).get("nodeInfo", {}).get("kernelVersion", ""),
        ),
        (
            "Container-Runtime",
            "string",
            1,
            lambda o: (
                o.get("status", {})
                .get("nodeInfo", {})
                .get("containerRuntimeVersion", "")
            ),
        ),
    ],
    kinds.DEPLOYMENT.key: [
        NAME,
        (
            "Ready",
            "string",
            0,
            lambda o: (
                f"{o.get('status', {}).get('readyReplicas', 0)}/"
                f"{o['spec'].get('replicas', 0)}"
            ),
        ),
        (
            "Up-to-date",
            "integer",
            0,
            lambda o: o.get("status", {}).get("updatedReplicas", 0),
        ),
        (
            "Available",
            "integer",
            0,
            lambda o: o.get("status", {}).get("availableReplicas", 0),
        ),
        AGE,
        ("Containers", "string", 1, lambda o: _containers(o, "name")),
        ("Images", "string", 1, lambda o: _containers(o, "image")),
        (
            "Selector",
            "string",
            1,
            lambda o: selectors.selector_string(o["spec"].get("selector")),
        ),
    ],
    kinds.SERVICE.key: [
        NAME,
        ("Type", "string", 0, lambda o: o["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", "string", 0, lambda o: o["spec"].get("clusterIP", "<none>")),
        ("External-IP", "string", 0, _external_ip),
        ("Port(s)", "string", 0, _ports),
        AGE,
        ("Selector", "string", 1, lambda o: _selector_text(o["spec"].get("selector"))),
    ],
    kinds.NAMESPACE.key: [
        NAME,
        ("Status", "string", 0, lambda o: o.get("status", {}).get("phase", "")),
        AGE,
    ],
    kinds.EVENT.key: [
        ("Last Seen", "string", 0, _last_seen),
        ("Type", "string", 0, lambda o: o.get("type", "")),
        ("Reason", "string", 0, lambda o: o.get("reason", "")),
        ("Object", "string", 0, _involved),
        (
            "Subobject",
            "string",
            1,
            lambda o: (o.get("involvedObject") or {}).get("fieldPath", ""),
        ),
        ("Source", "string", 1, _source),
        ("Message", "string", 0, lambda o: o.get("message", "")),
        (
            "First Seen",
            "string",
            1,
            lambda o: age(
                {"metadata": {"creationTimestamp": o.get("firstTimestamp") or ""}}
            ),
        ),
        ("Count", "string", 1, lambda o: str(o.get("count", 1))),
        ("Name", "string", 1, lambda o: o["metadata"]["name"]),
    ],
    kinds.REPLICASET.key: [
        NAME,
        ("Desired", "integer", 0, lambda o: o["spec"].get("replicas", 0)),
        (
            "Current",
            "integer",
            0,
            lambda o: (o.get("status") or {}).get("replicas", 0),
        ),
        (
            "Ready",
            "integer",
            0,
            lambda o: (o.get("status") or {}).get("readyReplicas", 0),
        ),
        AGE,
        ("Containers", "string", 1, lambda o: _containers(o, "name")),
        ("Images", "string", 1, lambda o: _containers(o, "image")),
        (
            "Selector",
            "string",
            1,
            lambda o: selectors.selector_string(o["spec"].get("selector")),
        ),
    ],
    kinds.ENDPOINTS.key: [
        NAME,
        ("Endpoints", "string", 0, _endpoints),
        AGE,
    ],
    kinds.DESTINATION_RULE.key: [
        NAME,
        ("Host", "string", 0, lambda o: (o.get("spec") or {}).get("host", "")),
        AGE,
    ],
}


def row(
    kind: kinds.Kind, obj: Obj, include_object: str, render: Callable[[Obj], Obj]
) -> dict[str, Any]:
    """One Table row of `obj`: its cells, and its metadata, the object or nothing."""
    columns = COLUMNS.get(kind.key, [NAME, AGE])
    line: dict[str, Any] = {"cells": [cell(obj) for _, _, _, cell in columns]}
    if include_object == "Object":
        line["object"] = render(obj)
    elif include_object != "None":
        line["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    return line


def head(kind: kinds.Kind, metadata: dict[str, Any]) -> dict[str, Any]:
    """A Table without its rows: kind, list metadata, column definitions."""
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [
            {
                "name": name,
                "type": type_,
                "format": "name" if name == "Name" else "",
                "description": name,
                "priority": priority,
            }
            for name, type_, priority, _ in COLUMNS.get(kind.key, [NAME, AGE])
        ],
    }


def table(
    kind: kinds.Kind,
    objects: list[Obj],
    resource_version: str,
    include_object: str,
    render: Callable[[Obj], Obj],
) -> dict[str, Any]:
    """A Table of `objects`; rows carry metadata, the object, or nothing."""
    whole = head(kind, {"resourceVersion": resource_version})
    whole["rows"] = [row(kind, obj, include_object, render) for obj in objects]
    return whole
