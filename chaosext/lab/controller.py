"""The controller manager of one cluster: Deployments make pods, the scheduler
places them, orphans are collected, and each Deployment's status is kept right.

Pods are named as ReplicaSets name them, `<deployment>-<hash10>-<rand5>`, and owned by
a ReplicaSet `<deployment>-<hash10>` (not stored as an object). The hash covers the
pod template and the cluster, so the same Deployment gets different pod names in
different clusters. A template change rolls out new pods and removes old ones as
new ones become ready.
"""

import asyncio
import copy
import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from chaosext.lab import admission, kinds, rest, scheduler, selectors
from chaosext.lab.errors import ApiError
from chaosext.lab.kubelet import is_ready
from chaosext.lab.store import Event, Obj, Store, timestamp

log = logging.getLogger("meshdrill.lab.controller")

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_WATCHED = {kinds.DEPLOYMENT.key, kinds.POD.key, kinds.NODE.key}


def template_hash(cluster: str, template: dict[str, Any]) -> str:
    digest = hashlib.sha256(
        (cluster + json.dumps(template, sort_keys=True)).encode()
    ).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:10])


def _deployment_of(pod: Obj) -> str | None:
    owner = scheduler.owner_name(pod)
    return owner.rsplit("-", 1)[0] if owner and "-" in owner else None


def _delete_rank(
    pod: Obj, zone_load: dict[str, int]
) -> tuple[int, int, int, int, float]:
    """Sort key: pods to remove first (unscheduled, not running, not ready, crowded,
    newest), as the ReplicaSet controller ranks them."""
    node = pod["spec"].get("nodeName")
    return (
        0 if not node else 1,
        0 if pod.get("status", {}).get("phase") != "Running" else 1,
        0 if not is_ready(pod) else 1,
        -zone_load.get(node or "", 0),
        -_epoch(pod["metadata"]["creationTimestamp"]),
    )


def _epoch(stamp: str) -> float:
    return (
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    )


class Controller:
    """Reconciles every Deployment of one cluster whenever pods, nodes or
    Deployments change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._wake = asyncio.Event()
        self._wake.set()
        store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind.key in _WATCHED:
            self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self.reconcile()
            except ApiError as exc:  # a race with a user's write: try again
                log.debug("cluster %s: reconcile: %s", self.store.cluster, exc)
                self._wake.set()
            await asyncio.sleep(0.005)  # let a burst of writes settle

    def reconcile(self) -> None:
        for deploy in list(self.store.objects(kinds.DEPLOYMENT)):
            self.sync(deploy)
        self.collect_orphans()
        scheduler.schedule_pending(self.store)
        for deploy in list(self.store.objects(kinds.DEPLOYMENT)):
            self.update_status(deploy)

    def owned(self, deploy: Obj) -> list[Obj]:
        meta = deploy["metadata"]
        requirements = selectors.match_labels_selector(deploy["spec"]["selector"])
        return [
            pod
            for pod in self.store.objects(kinds.POD, meta["namespace"])
            if _deployment_of(pod) == meta["name"]
            and selectors.labels_match(
                requirements, pod["metadata"].get("labels") or {}
            )
        ]

    def sync(self, deploy: Obj) -> None:
        meta = deploy["metadata"]
        pod_hash = template_hash(self.store.cluster, deploy["spec"]["template"])
        active = [
            p for p in self.owned(deploy) if not p["metadata"].get("deletionTimestamp")
        ]
        new = [
            p
            for p in active
            if p["metadata"]["labels"].get("pod-template-hash") == pod_hash
        ]
        old = [p for p in active if p not in new]
        desired = int(deploy["spec"].get("replicas", 1))
        for _ in range(desired - len(new)):
            self.create_pod(deploy, pod_hash)
        if len(new) > desired:
            self.remove(new, len(new) - desired)
        ready_new = sum(1 for p in new if is_ready(p))
        keep_old = max(0, desired - ready_new)
        if len(old) > keep_old:
            self.remove(old, len(old) - keep_old)
        log.debug(
            "cluster %s: %s: %d wanted", self.store.cluster, meta["name"], desired
        )

    def create_pod(self, deploy: Obj, pod_hash: str) -> None:
        meta = deploy["metadata"]
        template = copy.deepcopy(deploy["spec"]["template"])
        template_meta = template.get("metadata") or {}
        rs_name = f"{meta['name']}-{pod_hash}"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{rs_name}-",
                "namespace": meta["namespace"],
                "labels": dict(template_meta.get("labels") or {})
                | {"pod-template-hash": pod_hash},
                "annotations": dict(template_meta.get("annotations") or {}),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": rs_name,
                        "uid": str(uuid.uuid5(uuid.UUID(meta["uid"]), pod_hash)),
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": template["spec"],
        }
        self.store.create(kinds.POD, admission.admit(self.store, kinds.POD, pod, None))

    def remove(self, pods: list[Obj], count: int) -> None:
        load: dict[str, int] = {}
        for pod in pods:
            node = pod["spec"].get("nodeName") or ""
            load[node] = load.get(node, 0) + 1
        for pod in sorted(pods, key=lambda p: _delete_rank(p, load))[:count]:
            meta = pod["metadata"]
            rest.delete_pod(self.store, meta["namespace"], meta["name"], None)

    def collect_orphans(self) -> None:
        """Pods whose Deployment is gone are deleted (background cascading)."""
        for pod in list(self.store.objects(kinds.POD)):
            meta = pod["metadata"]
            owner = _deployment_of(pod)
            if owner is None or meta.get("deletionTimestamp"):
                continue
            if self.store.peek(kinds.DEPLOYMENT, meta["namespace"], owner) is None:
                rest.delete_pod(self.store, meta["namespace"], meta["name"], None)

    def update_status(self, deploy: Obj) -> None:
        meta = deploy["metadata"]
        pod_hash = template_hash(self.store.cluster, deploy["spec"]["template"])
        active = [
            p for p in self.owned(deploy) if not p["metadata"].get("deletionTimestamp")
        ]
        updated = [
            p
            for p in active
            if p["metadata"]["labels"].get("pod-template-hash") == pod_hash
        ]
        ready = sum(1 for p in active if is_ready(p))
        desired = int(deploy["spec"].get("replicas", 1))
        available = ready
        old_status = deploy.get("status") or {}
        status: dict[str, Any] = {"observedGeneration": meta.get("generation", 1)}
        counts = {
            "replicas": len(active),
            "updatedReplicas": len(updated),
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, len(active) - available, desired - available),
        }
        status.update({k: v for k, v in counts.items() if v})
        complete = len(updated) == desired == available and len(active) == desired
        status["conditions"] = [
            _condition(
                old_status,
                "Available",
                available >= desired,
                "MinimumReplicasAvailable"
                if available >= desired
                else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available >= desired
                else "Deployment does not have minimum availability.",
            ),
            _condition(
                old_status,
                "Progressing",
                True,
                "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                f'ReplicaSet "{meta["name"]}-{pod_hash}" '
                + ("has successfully progressed." if complete else "is progressing."),
            ),
        ]
        if status != old_status:

            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(kinds.DEPLOYMENT, meta["namespace"], meta["name"], write)


def _condition(
    old_status: dict[str, Any], type_: str, ok: bool, reason: str, message: str
) -> dict[str, Any]:
    """A condition, keeping its old timestamps when nothing about it changed."""
    status = "True" if ok else "False"
    for old in old_status.get("conditions") or []:
        if old.get("type") == type_:
            if (old.get("status"), old.get("reason"), old.get("message")) == (
                status,
                reason,
                message,
            ):
                return dict(old)
            now = timestamp()
            changed = old.get("status") != status
            return {
                "type": type_,
                "status": status,
                "lastUpdateTime": now,
                "lastTransitionTime": now
                if changed
                else old.get("lastTransitionTime", now),
                "reason": reason,
                "message": message,
            }
    now = timestamp()
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
