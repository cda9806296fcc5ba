"""Labs for the safety tests, and what a drill may have changed in them."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chaosext.annotations import RESTORE_KEY
from chaosext.lab import runtime
from chaosext.undo import FAULT_KEY
from tests.drills.drilling import objects, topology_variant
from tests.labfixtures import apps, core

Edit = Callable[[dict[str, Any]], None]


def without_outlier_detection(data: dict[str, Any]) -> None:
    """Faulty pods keep getting traffic: errors persist (no ejection)."""
    for rule in objects(data, "DestinationRule"):
        rule["spec"]["trafficPolicy"].pop("outlierDetection", None)


def start(
    tmp: Path, name: str = "guide-000", edit: Edit | None = None
) -> runtime.LabInfo:
    """A detached lab from a fast variant of a shipped topology (stop it after)."""
    directory = tmp / f"{name}-lab"
    directory.mkdir()
    variant = topology_variant(name, directory, edit=edit)
    return runtime.start_lab(str(variant), directory / "state", timeout=30.0)


def deployment(
    lab: runtime.LabInfo, context: str = "cluster-a", name: str = "hello-world"
) -> Any:
    return apps(lab, context).read_namespaced_deployment(name, "default")


def held(lab: runtime.LabInfo, context: str = "cluster-a") -> Any:
    """cluster-a's hello-world when a drill holds it at zero replicas, else None."""
    dep = deployment(lab, context)
    annotations = dep.metadata.annotations or {}
    if dep.spec.replicas == 0 and RESTORE_KEY in annotations:
        return dep
    return None


def restored(lab: runtime.LabInfo, context: str = "cluster-a") -> bool:
    """hello-world back at 2 replicas, with no restore record left."""
    dep = deployment(lab, context)
    return dep.spec.replicas == 2 and RESTORE_KEY not in (
        dep.metadata.annotations or {}
    )


def settled(lab: runtime.LabInfo) -> bool:
    """Every Deployment has exactly its replicas as pods, all ready; none leaving."""
    for context in lab.clusters:
        pods = core(lab, context).list_pod_for_all_namespaces().items
        if any(p.metadata.deletion_timestamp for p in pods):
            return False
        for dep in apps(lab, context).list_deployment_for_all_namespaces().items:
            labels = dep.spec.selector.match_labels or {}
            mine = [
                p
                for p in pods
                if p.metadata.namespace == dep.metadata.namespace
                and labels.items() <= (p.metadata.labels or {}).items()
            ]
            wanted = dep.spec.replicas
            if len(mine) != wanted or (dep.status.ready_replicas or 0) != wanted:
                return False
    return True


def snapshot(lab: runtime.LabInfo) -> dict[str, Any]:
    """Everything a drill may change: replicas, cordons, pods, their annotations."""
    state: dict[str, Any] = {}
    for context in lab.clusters:
        api, apps_api = core(lab, context), apps(lab, context)
        deployments = apps_api.list_deployment_for_all_namespaces().items
        nodes = api.list_node().items
        pods = api.list_pod_for_all_namespaces().items
        state[context] = {
            "deployments": {
                f"{d.metadata.namespace}/{d.metadata.name}": (
                    d.spec.replicas,
                    _marks(d.metadata.annotations),
                )
                for d in deployments
            },
            "nodes": {
                n.metadata.name: (
                    bool(n.spec.unschedulable),
                    _marks(n.metadata.annotations),
                )
                for n in nodes
            },
            "pods": {
                f"{p.metadata.namespace}/{p.metadata.name}": _marks(
                    p.metadata.annotations
                )
                for p in pods
            },
        }
    return state


def _marks(annotations: dict[str, str] | None) -> dict[str, str]:
    return {
        k: v for k, v in (annotations or {}).items() if k in (RESTORE_KEY, FAULT_KEY)
    }


def faulted_pods(lab: runtime.LabInfo) -> list[str]:
    """Pods (in any cluster) that still carry a fault or a restore record."""
    return [
        f"{context} {name}"
        for context, state in snapshot(lab).items()
        for name, marks in state["pods"].items()
        if marks
    ]


def versions(lab: runtime.LabInfo) -> dict[tuple[str, str, str], str]:
    """(context, kind, namespace/name) -> resourceVersion of every node, pod,
    deployment and service: equal before and after means no object was written."""
    found: dict[tuple[str, str, str], str] = {}
    for context in lab.clusters:
        api, apps_api = core(lab, context), apps(lab, context)
        lists = {
            "node": api.list_node().items,
            "pod": api.list_pod_for_all_namespaces().items,
            "service": api.list_service_for_all_namespaces().items,
            "deployment": apps_api.list_deployment_for_all_namespaces().items,
        }
        for kind, items in lists.items():
            for item in items:
                name = f"{item.metadata.namespace or ''}/{item.metadata.name}"
                found[(context, kind, name)] = str(item.metadata.resource_version)
    return found
