"""The controller manager of one cluster: Deployments own ReplicaSets, ReplicaSets
own pods, the scheduler places them, the garbage collector removes what lost its
owner, and every status is kept right, with the Events each controller records.

A Deployment's ReplicaSet for a pod template is `<deployment>-<hash10>`; the hash
covers the template and the cluster, so the same Deployment gets different pod
names in different clusters. Each ReplicaSet carries its revision
(`deployment.kubernetes.io/revision`), so `kubectl rollout history` and
`rollout undo` work: a template that matches an older ReplicaSet reuses it with the
next revision. A rollout starts all new pods at once and scales the old
ReplicaSets down as new pods become ready. Deployments created by anyone (the API,
a topology, another controller writing to the store) are handled alike.
"""

import asyncio
import copy
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from chaosext.lab import endpointslices, events, kinds, replicaset, scheduler
from chaosext.lab.errors import ApiError
from chaosext.lab.kubelet import is_ready
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Event, Obj, Store, timestamp

log = logging.getLogger("meshdrill.lab.controller")

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_WATCHED = {
    kinds.DEPLOYMENT.key,
    kinds.REPLICASET.key,
    kinds.POD.key,
    kinds.NODE.key,
    kinds.SERVICE.key,
}
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
COMPONENT = "deployment-controller"


def template_hash(cluster: str, template: dict[str, Any]) -> str:
    digest = hashlib.sha256(
        (cluster + json.dumps(template, sort_keys=True)).encode()
    ).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:10])


def revision(obj: Obj) -> int:
    value = (obj["metadata"].get("annotations") or {}).get(REVISION, "0")
    return int(value) if value.isdigit() else 0


def _pruned(value: Any) -> Any:
    """`value` without nulls and empty maps: what a Go struct decodes them to."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in pruned.items() if v != {}}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def same_template(rs: Obj, template: dict[str, Any]) -> bool:
    """The ReplicaSet's template is `template`, its pod-template-hash aside
    (Kubernetes' EqualIgnoreHash)."""
    mine = copy.deepcopy(rs["spec"]["template"])
    ((mine.get("metadata") or {}).get("labels") or {}).pop(HASH_LABEL, None)
    return bool(_pruned(mine) == _pruned(template))


class Controller:
    """Reconciles every Deployment and ReplicaSet of one cluster whenever pods,
    nodes, ReplicaSets or Deployments change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._wake = asyncio.Event()
        self._wake.set()
        self._node_changes: list[tuple[str, bool]] = []
        store.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        if event.kind.key in _WATCHED:
            self._wake.set()
        if event.kind is kinds.NODE and event.old is not None:
            now = bool(event.object.get("spec", {}).get("unschedulable"))
            before = bool(event.old.get("spec", {}).get("unschedulable"))
            if now != before:
                self._node_changes.append((event.object["metadata"]["name"], now))

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.reconcile()
            except ApiError as exc:  # a race with a user's write: try again
                log.debug("cluster %s: reconcile: %s", self.store.cluster, exc)
                self._wake.set()
            await asyncio.sleep(0.005)  # let a burst of writes settle

    async def reconcile(self) -> None:
        """One pass over the cluster. It hands the loop over between objects and
        while it creates, deletes or binds pods (`pacing`), so the API answers
        during a big scale; each object is re-read after a turn."""
        pacer = Pacer()
        self.record_node_changes()
        replicaset.collect_garbage(self.store)
        async for deploy in self._current(kinds.DEPLOYMENT, pacer):
            self.sync(deploy)
        async for rs in self._current(kinds.REPLICASET, pacer):
            await replicaset.sync(self.store, rs, pacer)
        await scheduler.schedule_pending(self.store, pacer)
        async for rs in self._current(kinds.REPLICASET, pacer):
            replicaset.update_status(self.store, rs)
        async for deploy in self._current(kinds.DEPLOYMENT, pacer):
            self.update_status(deploy)
        await pacer.turn()
        await endpointslices.sync(self.store, pacer)

    async def _current(self, kind: kinds.Kind, pacer: Pacer) -> AsyncIterator[Obj]:
        """The objects of `kind` as they are after each turn of the loop (those
        that went meanwhile are skipped)."""
        for listed in list(self.store.objects(kind)):
            await pacer.turn()
            meta = listed["metadata"]
            current = self.store.peek(kind, meta.get("namespace", ""), meta["name"])
            if current is not None:
                yield current

    def record_node_changes(self) -> None:
        """The kubelet's NodeNotSchedulable / NodeSchedulable events (cordon)."""
        changes, self._node_changes = self._node_changes, []
        for name, unschedulable in changes:
            node = self.store.peek(kinds.NODE, "", name)
            if node is None:
                continue
            reason = "NodeNotSchedulable" if unschedulable else "NodeSchedulable"
            events.record(
                self.store,
                node,
                kinds.NODE,
                reason,
                f"Node {name} status is now: {reason}",
                "kubelet",
                host=name,
            )

    def owned(self, deploy: Obj) -> list[Obj]:
        """The Deployment's ReplicaSets, oldest revision first."""
        meta = deploy["metadata"]
        return sorted(
            (
                rs
                for rs in self.store.objects(kinds.REPLICASET, meta["namespace"])
                if replicaset.controller_uid(rs) == meta["uid"]
            ),
            key=revision,
        )

    def pods(self, deploy: Obj) -> list[Obj]:
        """The pods of all the Deployment's ReplicaSets (not being deleted)."""
        return [
            p for rs in self.owned(deploy) for p in replicaset.pods_of(self.store, rs)
        ]

    def sync(self, deploy: Obj) -> None:
        meta = deploy["metadata"]
        owned = self.owned(deploy)
        template = deploy["spec"]["template"]
        new = next(
            (rs for rs in owned if same_template(rs, template)),
            None,
        )
        top = max((revision(rs) for rs in owned), default=0)
        if new is None and deploy["spec"].get("paused") and owned:
            # a paused Deployment rolls nothing out: its newest ReplicaSet scales
            self.scale(deploy, owned[-1], int(deploy["spec"].get("replicas", 1)))
            return
        if new is None:
            new = self.create_replicaset(deploy, top + 1)
        elif revision(new) < top:  # back to an older template (rollout undo)
            new = self.annotate(kinds.REPLICASET, new, top + 1)
        if revision(deploy) != revision(new):
            self.annotate(kinds.DEPLOYMENT, deploy, revision(new))
        desired = int(deploy["spec"].get("replicas", 1))
        self.scale(deploy, new, desired)
        ready_new = sum(1 for p in replicaset.pods_of(self.store, new) if is_ready(p))
        keep_old = max(0, desired - ready_new)
        for rs in reversed(
            [r for r in owned if r["metadata"]["uid"] != new["metadata"]["uid"]]
        ):
            replicas = int(rs["spec"].get("replicas", 0))
            kept = min(replicas, keep_old)
            keep_old -= kept
            self.scale(deploy, rs, kept)
        self.clean_history(deploy, new)
        log.debug(
            "cluster %s: %s: %d wanted", self.store.cluster, meta["name"], desired
        )

    def create_replicaset(self, deploy: Obj, number: int) -> Obj:
        meta = deploy["metadata"]
        template = copy.deepcopy(deploy["spec"]["template"])
        pod_hash = template_hash(self.store.cluster, template)
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[HASH_LABEL] = pod_hash
        template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy(deploy["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        annotations = {
            REVISION: str(number),
            "deployment.kubernetes.io/desired-replicas": str(
                deploy["spec"].get("replicas", 1)
            ),
            "deployment.kubernetes.io/max-replicas": str(
                2 * int(deploy["spec"].get("replicas", 1))
            ),
        }
        cause = (meta.get("annotations") or {}).get(CHANGE_CAUSE)
        if cause:
            annotations[CHANGE_CAUSE] = cause
        rs = {
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [
                    replicaset.owner_reference(deploy, kinds.DEPLOYMENT)
                ],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
            "status": {"replicas": 0},
        }
        return self.store.create(kinds.REPLICASET, rs)

    def annotate(self, kind: kinds.Kind, obj: Obj, number: int) -> Obj:
        def write(current: Obj) -> None:
            annotations = current["metadata"].setdefault("annotations", {})
            annotations[REVISION] = str(number)

        meta = obj["metadata"]
        return self.store.mutate(kind, meta["namespace"], meta["name"], write)

    def scale(self, deploy: Obj, rs: Obj, replicas: int) -> None:
        before = int(rs["spec"].get("replicas", 0))
        if before == replicas:
            return

        def write(current: Obj) -> None:
            current["spec"]["replicas"] = replicas

        meta = rs["metadata"]
        self.store.mutate(kinds.REPLICASET, meta["namespace"], meta["name"], write)
        direction = "up" if replicas > before else "down"
        events.record(
            self.store,
            deploy,
            kinds.DEPLOYMENT,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {meta['name']} "
            f"from {before} to {replicas}",
            COMPONENT,
        )

    def clean_history(self, deploy: Obj, new: Obj) -> None:
        """Old, empty ReplicaSets beyond `revisionHistoryLimit` are deleted."""
        limit = int(deploy["spec"].get("revisionHistoryLimit", 10))
        old = [
            rs
            for rs in self.owned(deploy)
            if rs["metadata"]["uid"] != new["metadata"]["uid"]
            and not rs["spec"].get("replicas")
            and not replicaset.pods_of(self.store, rs, terminating=True)
        ]
        for rs in old[: max(0, len(old) - limit)]:
            meta = rs["metadata"]
            self.store.delete(kinds.REPLICASET, meta["namespace"], meta["name"])

    def update_status(self, deploy: Obj) -> None:
        meta = deploy["metadata"]
        owned = self.owned(deploy)
        template = deploy["spec"]["template"]
        new = next(
            (rs for rs in owned if same_template(rs, template)),
            None,
        )
        active = self.pods(deploy)
        updated = replicaset.pods_of(self.store, new) if new is not None else []
        new_name = new["metadata"]["name"] if new is not None else meta["name"]
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
                f'ReplicaSet "{new_name}" '
                + ("has successfully progressed." if complete else "is progressing."),
            ),
        ]
        if deploy["spec"].get("paused"):
            status["conditions"][1] = _condition(
                old_status,
                "Progressing",
                None,
                "DeploymentPaused",
                "Deployment is paused",
            )
        if status != old_status:

            def write(obj: Obj) -> None:
                obj["status"] = status

            self.store.mutate(kinds.DEPLOYMENT, meta["namespace"], meta["name"], write)


def _condition(
    old_status: dict[str, Any], type_: str, ok: bool | None, reason: str, message: str
) -> dict[str, Any]:
    """A condition, keeping its old timestamps when nothing about it changed."""
    status = "Unknown" if ok is None else "True" if ok else "False"
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
