"""The Endpoints and EndpointSlice controllers of one cluster.

For every Service with a selector, one `Endpoints` object (same name; ready pods
under `addresses`, the others under `notReadyAddresses`, terminating pods left
out) and one `discovery.k8s.io/v1` EndpointSlice (`<service>-<rand5>`, labelled
`kubernetes.io/service-name`, owned by the Service; terminating pods kept with
their conditions), as kube-controller-manager keeps them. A Service without a
selector keeps whatever endpoints its owner writes.
"""

from typing import Any

from chaosext.lab import kinds, selectors
from chaosext.lab.kubelet import is_ready
from chaosext.lab.objects import ZONE_LABEL
from chaosext.lab.replicaset import owner_reference
from chaosext.lab.store import Obj, Store, timestamp

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def _target_port(port: dict[str, Any], pod: Obj) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for container in pod["spec"].get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == target:
                return int(declared["containerPort"])
    return None


def _ref(pod: Obj) -> dict[str, Any]:
    meta = pod["metadata"]
    return {
        "kind": "Pod",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
    }


def _pods(store: Store, service: Obj) -> list[Obj]:
    selector = service["spec"].get("selector") or {}
    wanted = selectors.match_labels_selector({"matchLabels": selector})
    return [
        pod
        for pod in store.objects(kinds.POD, service["metadata"]["namespace"])
        if (pod.get("status") or {}).get("podIP")
        and selectors.labels_match(wanted, pod["metadata"].get("labels") or {})
    ]


def endpoints_for(store: Store, service: Obj, pods: list[Obj]) -> Obj:
    meta = service["metadata"]
    subsets: dict[tuple[tuple[str, int, str], ...], dict[str, Any]] = {}
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        ports = []
        for port in service["spec"].get("ports") or []:
            number = _target_port(port, pod)
            if number is not None:
                ports.append(
                    (port.get("name", ""), number, port.get("protocol", "TCP"))
                )
        subset = subsets.setdefault(
            tuple(ports),
            {
                "ports": [
                    {"port": n, "protocol": p} | ({"name": name} if name else {})
                    for name, n, p in ports
                ]
            },
        )
        address = {
            "ip": pod["status"]["podIP"],
            "nodeName": pod["spec"].get("nodeName", ""),
            "targetRef": _ref(pod),
        }
        field = "addresses" if is_ready(pod) else "notReadyAddresses"
        subset.setdefault(field, []).append(address)
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": {TRIGGER: timestamp()},
        },
    }
    if subsets:
        obj["subsets"] = [s for s in subsets.values() if s["ports"]]
    return obj


def slice_for(store: Store, service: Obj, pods: list[Obj]) -> Obj:
    meta = service["metadata"]
    ports: list[dict[str, Any]] = []
    endpoints = []
    for pod in pods:
        if not ports:
            for port in service["spec"].get("ports") or []:
                number = _target_port(port, pod)
                if number is not None:
                    ports.append(
                        {
                            "name": port.get("name", ""),
                            "port": number,
                            "protocol": port.get("protocol", "TCP"),
                        }
                    )
        node_name = pod["spec"].get("nodeName", "")
        node = store.peek(kinds.NODE, "", node_name) if node_name else None
        ready = is_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        endpoint: dict[str, Any] = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": {
                "ready": ready and not terminating,
                "serving": ready,
                "terminating": terminating,
            },
            "targetRef": _ref(pod),
            "nodeName": node_name,
        }
        zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE_LABEL)
        if zone:
            endpoint["zone"] = zone
        endpoints.append(endpoint)
    labels = dict(meta.get("labels") or {})
    labels[SERVICE_NAME] = meta["name"]
    labels[MANAGED_BY] = SLICE_CONTROLLER
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_reference(service, kinds.SERVICE)],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports or None,
    }


def _write(store: Store, kind: kinds.Kind, current: Obj | None, wanted: Obj) -> None:
    if current is None:
        store.create(kind, wanted)
        return
    merged = dict(current)
    merged["metadata"] = dict(current["metadata"])
    for field in ("labels", "ownerReferences"):
        if field in wanted["metadata"]:
            merged["metadata"][field] = wanted["metadata"][field]
    for field in ("subsets", "endpoints", "ports", "addressType"):
        merged.pop(field, None)
        if field in wanted:
            merged[field] = wanted[field]
    if merged == current:
        return
    if TRIGGER in (wanted["metadata"].get("annotations") or {}):
        annotations = dict(merged["metadata"].get("annotations") or {})
        annotations[TRIGGER] = wanted["metadata"]["annotations"][TRIGGER]
        merged["metadata"]["annotations"] = annotations
    store.replace(kind, merged)


def sync(store: Store) -> None:
    """Bring every selector Service's Endpoints and EndpointSlice up to date."""
    services = {}
    for service in store.objects(kinds.SERVICE):
        if service["spec"].get("selector"):
            meta = service["metadata"]
            services[(meta["namespace"], meta["name"])] = service
    slices: dict[tuple[str, str], Obj] = {}
    for found in list(store.objects(kinds.ENDPOINT_SLICE)):
        labels = found["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY) != SLICE_CONTROLLER:
            continue
        key = (found["metadata"]["namespace"], labels.get(SERVICE_NAME, ""))
        if key not in services or key in slices:
            store.delete(kinds.ENDPOINT_SLICE, key[0], found["metadata"]["name"])
        else:
            slices[key] = found
    for key, service in services.items():
        pods = _pods(store, service)
        _write(
            store,
            kinds.ENDPOINTS,
            store.peek(kinds.ENDPOINTS, *key),
            endpoints_for(store, service, pods),
        )
        _write(
            store,
            kinds.ENDPOINT_SLICE,
            slices.get(key),
            slice_for(store, service, pods),
        )
    for found in list(store.objects(kinds.ENDPOINTS)):
        key = (found["metadata"]["namespace"], found["metadata"]["name"])
        ours = TRIGGER in (found["metadata"].get("annotations") or {})
        if ours and key not in services:
            store.delete(kinds.ENDPOINTS, *key)
