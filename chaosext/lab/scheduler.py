"""Placing pods on nodes: never on cordoned nodes, least-loaded zone first.

Like the default scheduler's topology spread: among schedulable nodes (not
`spec.unschedulable`, matching `nodeSelector`), the zone with the fewest pods of the
same owner wins, then the node with the fewest; ties go to the topology's order.
"""

from chaosext.lab import events, kinds
from chaosext.lab.objects import ZONE_LABEL
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Obj, Store, timestamp

COMPONENT = "default-scheduler"


def owner_name(pod: Obj) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("name"))
    return None


PeerKey = tuple[str, str]
Counts = dict[PeerKey, dict[str, int]]  # peers -> node -> scheduled pods


def peer_key(pod: Obj) -> PeerKey:
    """Pods of the same owner (or, without one, the same labels) are peers."""
    owner = owner_name(pod)
    labels = pod["metadata"].get("labels") or {}
    group = (
        f"owner:{owner}" if owner is not None else f"labels:{sorted(labels.items())}"
    )
    return (pod["metadata"]["namespace"], group)


def peer_counts(store: Store) -> Counts:
    """Scheduled, running-or-starting pods per peer group and node."""
    counts: Counts = {}
    for pod in store.objects(kinds.POD):
        node = pod["spec"].get("nodeName")
        if node and not pod["metadata"].get("deletionTimestamp"):
            per_node = counts.setdefault(peer_key(pod), {})
            per_node[node] = per_node.get(node, 0) + 1
    return counts


def schedulable(node: Obj, pod: Obj) -> bool:
    if node.get("spec", {}).get("unschedulable"):
        return False
    selector = pod["spec"].get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pick_node(store: Store, pod: Obj, counts: Counts | None = None) -> str | None:
    """The node for `pod`, or None when no node can take it (`counts`: the
    `peer_counts` of the store, when the caller keeps them)."""
    nodes = [n for n in store.objects(kinds.NODE) if schedulable(n, pod)]
    if not nodes:
        return None
    order = {n["metadata"]["name"]: i for i, n in enumerate(store.objects(kinds.NODE))}
    nodes.sort(key=lambda n: order[n["metadata"]["name"]])
    zone_of = {
        n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(ZONE_LABEL, "")
        for n in store.objects(kinds.NODE)
    }
    if counts is None:
        counts = peer_counts(store)
    per_node = counts.get(peer_key(pod), {})
    per_zone: dict[str, int] = {}
    for node, count in per_node.items():
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


async def schedule_pending(store: Store, pacer: Pacer) -> None:
    """Bind every unscheduled pod that can be placed; mark the others Unschedulable
    (handing the loop over between pods: one that went or was bound meanwhile is
    skipped)."""
    pending = [
        p
        for p in store.objects(kinds.POD)
        if not p["spec"].get("nodeName") and not p["metadata"].get("deletionTimestamp")
    ]
    counts = peer_counts(store) if pending else {}
    for pod in pending:
        await pacer.turn()
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        current = store.peek(kinds.POD, ns, name)
        if (
            current is None
            or current["spec"].get("nodeName")
            or current["metadata"].get("deletionTimestamp")
        ):
            continue
        pod = current
        node = pick_node(store, pod, counts)
        if node is not None:
            per_node = counts.setdefault(peer_key(pod), {})
            per_node[node] = per_node.get(node, 0) + 1

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
