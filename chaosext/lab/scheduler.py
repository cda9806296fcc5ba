"""Placing pods on nodes: never on cordoned nodes, least-loaded zone first.

Like the default scheduler's topology spread: among schedulable nodes (not
`spec.unschedulable`, matching `nodeSelector`), the zone with the fewest pods of the
same owner wins, then the node with the fewest; ties go to the topology's order.
"""

import weakref

from chaosext.lab import events, kinds
from chaosext.lab.objects import ZONE_LABEL
from chaosext.lab.store import Event, Obj, Store, timestamp

COMPONENT = "default-scheduler"


def owner_name(pod: Obj) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("name"))
    return None


def _group(pod: Obj) -> tuple[str, ...]:
    """Pods of one group spread together: the same owner, or (no owner) the same
    labels, in one namespace."""
    meta = pod["metadata"]
    owner = owner_name(pod)
    if owner is not None:
        return (meta["namespace"], "owner", owner)
    labels = sorted((meta.get("labels") or {}).items())
    return (meta["namespace"], "labels", *(f"{k}={v}" for k, v in labels))


class _Placement:
    """Per group, how many scheduled, running-or-starting pods each node holds;
    kept from the store's events so placing a pod costs O(nodes), not O(pods)."""

    def __init__(self, store: Store) -> None:
        self.counts: dict[tuple[str, ...], dict[str, int]] = {}
        for pod in store.objects(kinds.POD):
            self._add(pod, 1)
        store.subscribe(self._on_event)

    def _add(self, pod: Obj | None, sign: int) -> None:
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        node = pod["spec"].get("nodeName")
        if node:
            per_node = self.counts.setdefault(_group(pod), {})
            per_node[node] = per_node.get(node, 0) + sign

    def _on_event(self, event: Event) -> None:
        if event.kind.key == kinds.POD.key:
            self._add(event.old, -1)
            if event.type != "DELETED":
                self._add(event.object, 1)


_placements: "weakref.WeakKeyDictionary[Store, _Placement]" = (
    weakref.WeakKeyDictionary()
)


def _per_node(store: Store, pod: Obj) -> dict[str, int]:
    """Scheduled, running-or-starting pods of the same owner (or labels) per node."""
    placement = _placements.get(store)
    if placement is None:
        placement = _placements[store] = _Placement(store)
    return placement.counts.get(_group(pod), {})


def schedulable(node: Obj, pod: Obj) -> bool:
    if node.get("spec", {}).get("unschedulable"):
        return False
    selector = pod["spec"].get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pick_node(store: Store, pod: Obj) -> str | None:
    """The node for `pod`, or None when no node can take it."""
    nodes = [n for n in store.objects(kinds.NODE) if schedulable(n, pod)]
    if not nodes:
        return None
    order = {n["metadata"]["name"]: i for i, n in enumerate(store.objects(kinds.NODE))}
    nodes.sort(key=lambda n: order[n["metadata"]["name"]])
    zone_of = {
        n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(ZONE_LABEL, "")
        for n in store.objects(kinds.NODE)
    }
    per_node: dict[str, int] = {}
    per_zone: dict[str, int] = {}
    for node, count in _per_node(store, pod).items():
        per_node[node] = per_node.get(node, 0) + count
        zone = zone_of.get(node, "")
        per_zone[zone] = per_zone.get(zone, 0) + count
    best = min(
        nodes,
        key=lambda n: (
            per_zone.get(zone_of[n["metadata"]["name"]], 0),
            per_node.get(n["metadata"]["name"], 0),
            order[n["metadata"]["name"]],
        ),
    )
    return str(best["metadata"]["name"])


def schedule_pending(store: Store) -> None:
    """Bind every unscheduled pod that can be placed; mark the others Unschedulable."""
    pending = [
        p
        for p in store.objects(kinds.POD)
        if not p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")
    ]
    for pod in pending:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        node = pick_node(store, pod)
        if node is not None:

            def bind(obj: Obj, node: str = node) -> None:
                obj["spec"]["nodeName"] = node
                obj["status"]["conditions"] = [
                    {
                        "type": "PodScheduled",
                        "status": "True",
                        "lastProbeTime": None,
                        "lastTransitionTime": timestamp(),
                    }
                ]

            bound = store.mutate(kinds.POD, ns, name, bind)
            events.record(
                store,
                bound,
                kinds.POD,
                "Scheduled",
                f"Successfully assigned {ns}/{name} to {node}",
                COMPONENT,
            )
            continue
        total = sum(1 for _ in store.objects(kinds.NODE))
        message = (
            f"0/{total} nodes are available: {total} node(s) were unschedulable or "
            "didn't match Pod's node affinity/selector."
        )
        conditions = pod.get("status", {}).get("conditions") or []
        if any(c.get("message") == message for c in conditions):
            continue

        def unschedulable(obj: Obj, message: str = message) -> None:
            obj["status"]["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": None,
                    "lastTransitionTime": timestamp(),
                }
            ]

        pending_pod = store.mutate(kinds.POD, ns, name, unschedulable)
        events.record(
            store,
            pending_pod,
            kinds.POD,
            "FailedScheduling",
            message,
            COMPONENT,
            warning=True,
        )
