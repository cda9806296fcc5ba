"""The ReplicaSet controller and the garbage collector of one cluster.

A ReplicaSet keeps `spec.replicas` pods of its template, named `<rs>-<rand5>` and
owned by it (a controller ownerReference with its uid); pods to remove are ranked
as Kubernetes ranks them (unscheduled, not running, not ready, crowded, newest
first). The garbage collector deletes what lost its controller owner: ReplicaSets
whose Deployment is gone, then pods whose ReplicaSet is gone.
"""

import copy
from datetime import UTC, datetime
from typing import Any

from chaosext.lab import admission, events, kinds, rest
from chaosext.lab.kubelet import is_ready
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Obj, Store

COMPONENT = "replicaset-controller"
BURST = 500
"""Pods created or deleted per ReplicaSet and pass (the controller's burstReplicas):
the next pass, woken by those very writes, does the rest, and the API answers in
between. Within a pass the controller hands the event loop over every few
milliseconds (`pacing`)."""


def controller_uid(obj: Obj) -> str | None:
    """The uid of the object's controller owner, if it has one."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def owner_reference(owner: Obj, kind: kinds.Kind) -> dict[str, Any]:
    return {
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pods_of(store: Store, rs: Obj, *, terminating: bool = False) -> list[Obj]:
    """The pods this ReplicaSet controls (without those being deleted)."""
    meta = rs["metadata"]
    return [
        pod
        for pod in store.objects(kinds.POD, meta["namespace"])
        if controller_uid(pod) == meta["uid"]
        and (terminating or not pod["metadata"].get("deletionTimestamp"))
    ]


def _epoch(stamp: str) -> float:
    return (
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    )


def _delete_rank(
    pod: Obj, zone_load: dict[str, int]
) -> tuple[int, int, int, int, float]:
    node = pod["spec"].get("nodeName")
    return (
        0 if not node else 1,
        0 if pod.get("status", {}).get("phase") != "Running" else 1,
        0 if not is_ready(pod) else 1,
        -zone_load.get(node or "", 0),
        -_epoch(pod["metadata"]["creationTimestamp"]),
    )


async def sync(store: Store, rs: Obj, pacer: Pacer) -> None:
    """Create or delete pods until the ReplicaSet has `spec.replicas` of them.

    Between the loop's turns, a ReplicaSet that changed (or went) ends the pass:
    its change woke the controller, whose next pass works from it; a pod that
    went or is already being deleted is skipped."""
    meta = rs["metadata"]
    pods = pods_of(store, rs)
    desired = int(rs["spec"].get("replicas", 1))
    for _ in range(min(BURST, desired - len(pods))):
        await pacer.turn()
        if store.peek(kinds.REPLICASET, meta["namespace"], meta["name"]) is not rs:
            return
        create_pod(store, rs)
    if len(pods) > desired:
        load: dict[str, int] = {}
        for pod in pods:
            node = pod["spec"].get("nodeName") or ""
            load[node] = load.get(node, 0) + 1
        doomed = sorted(pods, key=lambda p: _delete_rank(p, load))
        for pod in doomed[: min(BURST, len(pods) - desired)]:
            await pacer.turn()
            if store.peek(kinds.REPLICASET, meta["namespace"], meta["name"]) is not rs:
                return
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            current = store.peek(kinds.POD, namespace, name)
            if current is None or current["metadata"].get("deletionTimestamp"):
                continue
            rest.delete_pod(store, namespace, name, None)
            events.record(
                store,
                rs,
                kinds.REPLICASET,
                "SuccessfulDelete",
                f"Deleted pod: {name}",
                COMPONENT,
            )


def create_pod(store: Store, rs: Obj) -> None:
    meta = rs["metadata"]
    template = copy.deepcopy(rs["spec"]["template"])
    template_meta = template.get("metadata") or {}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": dict(template_meta.get("labels") or {}),
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [owner_reference(rs, kinds.REPLICASET)],
        },
        "spec": template["spec"],
    }
    created = store.create(kinds.POD, admission.admit(store, kinds.POD, pod, None))
    events.record(
        store,
        rs,
        kinds.REPLICASET,
        "SuccessfulCreate",
        f"Created pod: {created['metadata']['name']}",
        COMPONENT,
    )


def update_status(store: Store, rs: Obj) -> None:
    pods = pods_of(store, rs)
    ready = sum(1 for p in pods if is_ready(p))
    counts = {
        "replicas": len(pods),
        "fullyLabeledReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
    }
    status: dict[str, Any] = {"replicas": len(pods)}
    status.update({k: v for k, v in counts.items() if v})
    status["observedGeneration"] = rs["metadata"].get("generation", 1)
    if status != rs.get("status"):

        def write(obj: Obj) -> None:
            obj["status"] = status

        meta = rs["metadata"]
        store.mutate(kinds.REPLICASET, meta["namespace"], meta["name"], write)


def collect_garbage(store: Store) -> None:
    """Background cascading deletion: what lost its controller owner goes."""
    deployments = {d["metadata"]["uid"] for d in store.objects(kinds.DEPLOYMENT)}
    for rs in list(store.objects(kinds.REPLICASET)):
        owner = _owner_of_kind(rs, "Deployment")
        if owner is not None and owner not in deployments:
            meta = rs["metadata"]
            store.delete(kinds.REPLICASET, meta["namespace"], meta["name"])
    replicasets = {r["metadata"]["uid"] for r in store.objects(kinds.REPLICASET)}
    for pod in list(store.objects(kinds.POD)):
        meta = pod["metadata"]
        owner = _owner_of_kind(pod, "ReplicaSet")
        if owner is None or meta.get("deletionTimestamp") or owner in replicasets:
            continue
        rest.delete_pod(store, meta["namespace"], meta["name"], None)


def _owner_of_kind(obj: Obj, kind: str) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == kind:
            return str(ref.get("uid"))
    return None
