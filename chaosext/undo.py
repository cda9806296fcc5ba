"""Find what meshdrill changed in a cluster, and undo it, from the objects alone.

Used by the rollbacks, the restore control (for one run) and `meshdrill recover`
(for every run, after a crash). Each kind of change has exactly one undo:
- a Deployment scaled by `scale_to_zero`: `spec.replicas` back to the prior count;
- a Node cordoned by `cordon_zone`: `spec.unschedulable` back to its prior value;
  when the last node of the zone this run cordoned is back, the pods evicted
  from the zone are moved back into it (`chaosext.placement`);
- a Pod given a fault by a fault action: the fault annotation removed;
- an EnvoyFilter or a VirtualService created by `inject_http_fault`: deleted
  (`chaosext.created`).
Undo removes the restore record in the same patch, so undoing twice is harmless.
"""

import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from chaosext import clusters, created, placement
from chaosext.annotations import RESTORE_KEY, RestoreRecord, read_record
from chaosext.locality import ZONE
from chaosext.mesh import names

__all__ = ["Change", "find_changes", "undo"]

FAULT_KEY = names.LAB_FAULT


@dataclass(frozen=True)
class Change:
    """One object meshdrill changed and has not restored yet."""

    context: str
    kind: str  # "deployment" | "node" | "pod" | "envoyfilter" | "virtualservice"
    namespace: str
    name: str
    record: RestoreRecord

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return (
            f"{self.kind} {where} in context '{self.context}':"
            f" {self.record.action}, prior {_fmt(self.record.prior)},"
            f" {self.record.describe()}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "action": self.record.action,
            "prior": self.record.prior,
            "run": self.record.run,
        }


def _fmt(prior: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(prior.items())) or "nothing"


def find_changes(
    cluster: clusters.Cluster,
    namespaces: Collection[str] | None = None,
    run_id: str | None = None,
    malformed: list[str] | None = None,
) -> list[Change]:
    """Every object in this cluster with a restore record (of `run_id` if given).

    `namespaces` None means all namespaces (needs cluster-wide list rights).
    A record that cannot be read raises ValueError naming the object, unless a
    `malformed` list is given: then it is described there, and the search goes
    on (one hand-edited annotation must not keep every other change in place).
    """
    found: list[Change] = []
    for kind, items in _candidates(cluster, namespaces):
        for obj in items:
            meta = obj.metadata
            try:
                record = read_record(meta.annotations)
            except ValueError as exc:
                where = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
                problem = f"{kind} {where} in context '{cluster.context}': {exc}"
                if malformed is None:
                    raise ValueError(problem) from exc
                malformed.append(problem)
                continue
            if record is None or (run_id is not None and record.run != run_id):
                continue
            found.append(
                Change(cluster.context, kind, meta.namespace or "", meta.name, record)
            )
    for kind in created.KINDS:
        for obj in created.managed(cluster, kind, namespaces):
            meta = obj["metadata"]
            try:
                record = created.record_of(obj)
            except ValueError as exc:
                problem = (
                    f"{kind} {meta['namespace']}/{meta['name']} in context"
                    f" '{cluster.context}': {exc}"
                )
                if malformed is None:
                    raise ValueError(problem) from exc
                malformed.append(problem)
                continue
            if run_id is None or record.run == run_id:
                found.append(
                    Change(
                        cluster.context, kind, meta["namespace"], meta["name"], record
                    )
                )
    return found


def _candidates(
    cluster: clusters.Cluster, namespaces: Collection[str] | None
) -> list[tuple[str, list[Any]]]:
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node).items
    lists: list[tuple[str, list[Any]]] = [("node", nodes)]
    if namespaces is None:
        deployments = clusters.call(
            cluster, "deployments", cluster.apps.list_deployment_for_all_namespaces
        ).items
        pods = clusters.list_items(
            cluster, "pods", cluster.core.list_pod_for_all_namespaces
        )
        return [*lists, ("deployment", deployments), ("pod", pods)]
    for ns in sorted(set(namespaces)):
        lists.append(
            (
                "deployment",
                clusters.call(
                    cluster,
                    f"deployments in namespace {ns}",
                    cluster.apps.list_namespaced_deployment,
                    ns,
                ).items,
            )
        )
        lists.append(
            (
                "pod",
                clusters.list_items(
                    cluster,
                    f"pods in namespace {ns}",
                    cluster.core.list_namespaced_pod,
                    ns,
                ),
            )
        )
    return lists


def undo(cluster: clusters.Cluster, change: Change) -> list[str]:
    """Put one object back as its record says, and drop the record.

    Returns the pods moved back into a zone (undoing its last cordoned node).
    """
    forget = {"metadata": {"annotations": {RESTORE_KEY: None}}}
    prior = change.record.prior
    if change.kind == "deployment":
        body = {**forget, "spec": {"replicas": int(prior["replicas"])}}
        clusters.call(
            cluster,
            f"deployment {change.namespace}/{change.name}",
            cluster.apps.patch_namespaced_deployment,
            change.name,
            change.namespace,
            body,
        )
    elif change.kind == "node":
        body = {**forget, "spec": {"unschedulable": bool(prior["unschedulable"])}}
        clusters.call(
            cluster, f"node {change.name}", cluster.core.patch_node, change.name, body
        )
        returning = prior.get("return_pods")
        if isinstance(returning, dict) and _zone_back(cluster, change):
            return placement.return_pods(cluster, returning)
    elif change.kind == "pod":
        key = str(prior.get("annotation") or FAULT_KEY)
        annotations: dict[str, Any] = {RESTORE_KEY: None, key: prior.get("fault")}
        # A pod that is gone took its fault with it.
        with contextlib.suppress(clusters.NotFound):
            clusters.call(
                cluster,
                f"pod {change.namespace}/{change.name}",
                cluster.core.patch_namespaced_pod,
                change.name,
                change.namespace,
                {"metadata": {"annotations": annotations}},
            )
    elif change.kind in created.KINDS:
        created.delete(cluster, change.kind, change.namespace, change.name)
    else:
        raise ValueError(f"unknown kind of change '{change.kind}'")
    return []


def _zone_back(cluster: clusters.Cluster, change: Change) -> bool:
    """True when no node of the changed node's zone holds this run's record."""
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node).items
    zone = next(
        (
            (n.metadata.labels or {}).get(ZONE)
            for n in nodes
            if n.metadata.name == change.name
        ),
        None,
    )
    for node in nodes:
        if (node.metadata.labels or {}).get(ZONE) != zone:
            continue
        try:
            record = read_record(node.metadata.annotations)
        except ValueError:
            continue
        if record is not None and record.run == change.record.run:
            return False
    return True
