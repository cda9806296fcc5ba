"""The Endpoints and EndpointSlice controllers of one cluster.

For every Service with a selector, one `Endpoints` object (same name; ready pods
under `addresses`, the others under `notReadyAddresses`, sorted by IP, terminating
pods left out; at most 1,000 addresses, cut and annotated
`endpoints.kubernetes.io/over-capacity: truncated` over that: `truncate`) and
`discovery.k8s.io/v1` EndpointSlices of at most 100 endpoints each
(`<service>-<rand5>`, labelled `kubernetes.io/service-name` and managed-by the
endpointslice controller, owned by the Service; terminating pods kept with their
conditions; one per port set; an endpoint stays in its slice, only slices that
change are rewritten: `plan`), as kube-controller-manager keeps them. A Service
without a selector keeps whatever endpoints its owner writes.
"""

import math
from typing import Any

from chaosext.lab import kinds, selectors
from chaosext.lab.kubelet import is_ready
from chaosext.lab.objects import ZONE_LABEL
from chaosext.lab.pacing import Pacer
from chaosext.lab.replicaset import owner_reference
from chaosext.lab.store import Obj, Store, timestamp

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"
MAX_ENDPOINTS_PER_SLICE = 100
"""kube-controller-manager's `--max-endpoints-per-slice` default."""
MAX_ENDPOINTS_ADDRESSES = 1000
"""The Endpoints controller's `maxCapacity`: addresses an Endpoints object holds."""
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
TRUNCATED = "truncated"


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
        for subset in obj["subsets"]:
            for field in ("addresses", "notReadyAddresses"):
                if field in subset:
                    subset[field].sort(key=_address_order)
        if truncate(obj["subsets"]):
            obj["metadata"]["annotations"][OVER_CAPACITY] = TRUNCATED
    return obj


def _address_order(address: dict[str, Any]) -> tuple[str, str]:
    """RepackSubsets' order: by IP (as text), then by the pod's uid."""
    return address["ip"], address["targetRef"]["uid"]


def truncate(subsets: list[dict[str, Any]]) -> bool:
    """Cut `subsets` to `MAX_ENDPOINTS_ADDRESSES` addresses as the Endpoints
    controller does (`truncateEndpoints`): ready addresses first; each subset
    keeps its share of what is cut, rounded up, the last ones what is left; over
    the cap in ready addresses alone, every not-ready one goes. Whether it cut."""
    ready = sum(len(s.get("addresses", [])) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses", [])) for s in subsets)
    if ready + not_ready <= MAX_ENDPOINTS_ADDRESSES:
        return False
    cut_ready = ready > MAX_ENDPOINTS_ADDRESSES
    room = MAX_ENDPOINTS_ADDRESSES if cut_ready else MAX_ENDPOINTS_ADDRESSES - ready
    total = ready if cut_ready else not_ready
    left = room
    for subset in subsets:
        field = "addresses" if cut_ready else "notReadyAddresses"
        addresses = subset.get(field, [])
        share = min(math.ceil(len(addresses) / total * room), left)
        if field in subset:
            subset[field] = addresses[:share]
        if cut_ready:
            subset.pop("notReadyAddresses", None)
        left -= len(subset.get(field, []))
    return True


PortKey = tuple[tuple[str, int, str], ...]
Endpoints = list[dict[str, Any]]
Update = tuple[Obj, PortKey, Endpoints]


def _ports(service: Obj, pod: Obj) -> PortKey:
    """The service's ports as this pod serves them (name, number, protocol)."""
    out = []
    for port in service["spec"].get("ports") or []:
        number = _target_port(port, pod)
        if number is not None:
            out.append((port.get("name", ""), number, port.get("protocol", "TCP")))
    return tuple(out)


def _endpoint(store: Store, pod: Obj) -> dict[str, Any]:
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
    return endpoint


def _key(endpoint: dict[str, Any]) -> str:
    """An endpoint's identity across syncs: its pod's uid."""
    return str((endpoint.get("targetRef") or {}).get("uid", ""))


def _port_key(found: Obj) -> PortKey:
    return tuple(
        (p.get("name", ""), int(p["port"]), p.get("protocol", "TCP"))
        for p in found.get("ports") or []
    )


def _slice(service: Obj, ports: PortKey, endpoints: list[dict[str, Any]]) -> Obj:
    """A new EndpointSlice of `service` (its name generated: `<service>-<rand5>`)."""
    meta = service["metadata"]
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
        "ports": [
            {"name": name, "port": number, "protocol": protocol}
            for name, number, protocol in ports
        ]
        or None,
    }


def plan(
    existing: list[Obj],
    wanted: dict[PortKey, dict[str, dict[str, Any]]],
    limit: int = MAX_ENDPOINTS_PER_SLICE,
) -> tuple[list[Update], list[tuple[PortKey, Endpoints]], list[Obj]]:
    """The writes that bring a Service's slices (`existing`) to the endpoints
    `wanted` (by port set, then pod uid), as the EndpointSlice controller makes
    them: an endpoint stays in the slice it is in; a slice whose endpoints all
    went is deleted; new endpoints fill the slices being rewritten anyway, then
    new slices of at most `limit`, the last of them going into an unchanged
    slice with room if there is one. Returns (updates: slice, ports, endpoints),
    creates (ports, endpoints) and deletes; unchanged slices are in none. With no
    endpoint at all, one slice is kept (or made) empty, ports unset (the
    controller's placeholder)."""
    updates: list[Update] = []
    creates: list[tuple[PortKey, Endpoints]] = []
    deletes: list[Obj] = []
    unchanged: list[Update] = []
    left = {ports: dict(endpoints) for ports, endpoints in wanted.items()}
    for found in existing:
        ports = _port_key(found)
        remaining = left.get(ports, {})
        kept = []
        changed = False
        for endpoint in found.get("endpoints") or []:
            want = remaining.pop(_key(endpoint), None)
            if want is None:
                changed = True
                continue
            changed = changed or want != endpoint
            kept.append(want)
        if not kept:
            deletes.append(found)
        elif changed:
            updates.append((found, ports, kept))
        else:
            unchanged.append((found, ports, kept))
    for ports, remaining in left.items():
        new = list(remaining.values())
        for _, their_ports, endpoints in updates:
            if their_ports == ports and new and len(endpoints) < limit:
                room = limit - len(endpoints)
                endpoints += new[:room]
                new = new[room:]
        while new:
            chunk, new = new[:limit], new[limit:]
            if not new:  # the last, partial chunk: into an unchanged slice?
                roomy = next(
                    (
                        u
                        for u in unchanged
                        if u[1] == ports and len(u[2]) + len(chunk) <= limit
                    ),
                    None,
                )
                if roomy is not None:
                    unchanged.remove(roomy)
                    updates.append((roomy[0], ports, roomy[2] + chunk))
                    break
            creates.append((ports, chunk))
    if not updates and not creates and not unchanged:
        placeholder = next(
            (f for f in deletes if not f.get("endpoints") and not f.get("ports")),
            deletes[0] if deletes else None,
        )
        if placeholder is None:
            creates.append(((), []))
        else:
            deletes.remove(placeholder)
            if placeholder.get("endpoints") or placeholder.get("ports"):
                updates.append((placeholder, (), []))
    return updates, creates, deletes


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
    if kind is kinds.ENDPOINTS:
        _over_capacity(merged, wanted)
    if merged == current:
        return
    if TRIGGER in (wanted["metadata"].get("annotations") or {}):
        annotations = dict(merged["metadata"].get("annotations") or {})
        annotations[TRIGGER] = wanted["metadata"]["annotations"][TRIGGER]
        merged["metadata"]["annotations"] = annotations
    store.replace(kind, merged)


def _over_capacity(merged: Obj, wanted: Obj) -> None:
    """The over-capacity annotation as `wanted` has it: set when truncated,
    removed when not."""
    had = merged["metadata"].get("annotations") or {}
    value = (wanted["metadata"].get("annotations") or {}).get(OVER_CAPACITY)
    if had.get(OVER_CAPACITY) == value:
        return
    annotations = {k: v for k, v in had.items() if k != OVER_CAPACITY}
    if value is not None:
        annotations[OVER_CAPACITY] = value
    merged["metadata"]["annotations"] = annotations


async def sync(store: Store, pacer: Pacer) -> None:
    """Bring every selector Service's Endpoints and EndpointSlices up to date,
    handing the loop over between writes and while it reads the pods (`pacing`):
    a big Service's slices are written a slice at a time, only those that
    changed. What changed during a turn is seen by the next pass (every pod and
    Service event wakes the controller)."""
    services = {}
    for service in store.objects(kinds.SERVICE):
        if service["spec"].get("selector"):
            meta = service["metadata"]
            services[(meta["namespace"], meta["name"])] = service
    slices: dict[tuple[str, str], list[Obj]] = {}
    for found in list(store.objects(kinds.ENDPOINT_SLICE)):
        labels = found["metadata"].get("labels") or {}
        if labels.get(MANAGED_BY) != SLICE_CONTROLLER:
            continue
        key = (found["metadata"]["namespace"], labels.get(SERVICE_NAME, ""))
        if key not in services:
            store.delete(kinds.ENDPOINT_SLICE, key[0], found["metadata"]["name"])
        else:
            slices.setdefault(key, []).append(found)
    for key, service in services.items():
        await pacer.turn()
        current = store.peek(kinds.SERVICE, *key)
        if current is None or not current["spec"].get("selector"):
            continue
        service = current
        pods = _pods(store, service)
        _write(
            store,
            kinds.ENDPOINTS,
            store.peek(kinds.ENDPOINTS, *key),
            endpoints_for(store, service, pods),
        )
        wanted: dict[PortKey, dict[str, dict[str, Any]]] = {}
        for pod in pods:
            await pacer.turn()
            ports = _ports(service, pod)
            endpoint = _endpoint(store, pod)
            wanted.setdefault(ports, {})[_key(endpoint)] = endpoint
        names = [listed["metadata"]["name"] for listed in slices.get(key, [])]
        peeked = [store.peek(kinds.ENDPOINT_SLICE, key[0], name) for name in names]
        existing = [found for found in peeked if found is not None]
        updates, creates, deletes = plan(existing, wanted)
        for found in deletes:
            await pacer.turn()
            if store.peek(kinds.ENDPOINT_SLICE, key[0], found["metadata"]["name"]):
                store.delete(kinds.ENDPOINT_SLICE, key[0], found["metadata"]["name"])
        for found, ports, endpoints in updates:
            await pacer.turn()
            current_slice = store.peek(
                kinds.ENDPOINT_SLICE, key[0], found["metadata"]["name"]
            )
            _write(
                store,
                kinds.ENDPOINT_SLICE,
                current_slice,
                _slice(service, ports, endpoints),
            )
        for ports, endpoints in creates:
            await pacer.turn()
            store.create(kinds.ENDPOINT_SLICE, _slice(service, ports, endpoints))
    for found in list(store.objects(kinds.ENDPOINTS)):
        key = (found["metadata"]["namespace"], found["metadata"]["name"])
        ours = TRIGGER in (found["metadata"].get("annotations") or {})
        if ours and key not in services:
            store.delete(kinds.ENDPOINTS, *key)
