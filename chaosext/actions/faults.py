"""Make a workload's pods fail while they stay up (the outlier-ejection tier).

Mechanism `annotation` (the default): the fault is written as JSON into a pod
annotation (`lab.meshdrill.io/fault` unless `annotation` says otherwise), e.g.
`{"status": 503}`, `{"delay": 2.0}` or `{"refuse": true}`. The embedded lab's
pods obey it live. On a real cluster the application must do the same: mount the
annotation with a downward-API volume (`fieldRef: metadata.annotations['...']`;
the kubelet updates the file within its sync period) and answer accordingly.
docs/real-clusters.md ("Faults on real clusters") shows a sidecar-free way to do that.
"""

import json
import logging
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, locality, undo

__all__ = ["clear_fault", "inject_fault"]

logger = logging.getLogger("chaostoolkit")

MECHANISMS = ("annotation",)


class FaultResult(TypedDict):
    context: str
    namespace: str
    pods: list[str]
    fault: dict[str, Any] | None


def inject_fault(
    selector: str,
    namespace: str = "default",
    context: str = "",
    status: int = 503,
    delay: float = 0.0,
    refuse: bool = False,
    zone: str = "",
    mechanism: str = "annotation",
    annotation: str = undo.FAULT_KEY,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> FaultResult | annotations.Plan:
    """Make the pods of `selector` (in `zone`, if given) answer errors, still running.

    The fault: answer HTTP `status` (default 503), after `delay` seconds if
    non-zero, or refuse connections when `refuse` is true. Each pod gets a restore
    record holding its prior fault in the same patch, so `clear_fault`, the
    restore control or `meshdrill recover` heals exactly these pods.
    Fails (ActivityFailed) on an unknown mechanism, no matching pod, a pod held
    by another drill, or an unreachable cluster.
    """
    if mechanism not in MECHANISMS:
        raise ActivityFailed(
            f"inject_fault: unknown mechanism '{mechanism}' (use: annotation)"
        )
    fault: dict[str, Any] = {"refuse": True} if refuse else {"status": int(status)}
    if delay:
        fault["delay"] = float(delay)
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            pods = _pods(cluster, namespace, selector, zone)
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    [f"pod {namespace}/{p.metadata.name}: fault {fault}" for p in pods],
                )
            for pod in pods:
                _fault(cluster, pod, annotation, fault, run_id)
            names = [p.metadata.name for p in pods]
            logger.info("fault %s on %s in '%s'", fault, names, cluster.context)
            return FaultResult(
                context=cluster.context, namespace=namespace, pods=names, fault=fault
            )
    except (clusters.ClusterError, annotations.Held, ValueError) as exc:
        raise ActivityFailed(f"inject_fault: {exc}") from exc


def clear_fault(
    selector: str,
    namespace: str = "default",
    context: str = "",
    mechanism: str = "annotation",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> FaultResult | annotations.Plan:
    """Heal the pods this run gave a fault: each gets back its prior annotation.

    Idempotent; pods faulted by another drill are left alone; pods that are gone
    took their fault with them. Fails (ActivityFailed) when the cluster cannot be
    reached.
    """
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            healed: list[str] = []
            for pod in _pods(cluster, namespace, selector, "", required=False):
                record = annotations.read_record(pod.metadata.annotations)
                if record is None or record.run != run_id:
                    continue
                healed.append(pod.metadata.name)
                if not annotations.is_dry_run(configuration):
                    undo.undo(
                        cluster,
                        undo.Change(
                            cluster.context, "pod", namespace, pod.metadata.name, record
                        ),
                    )
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    [f"pod {namespace}/{name}: fault cleared" for name in healed],
                )
            logger.info("healed %s in '%s'", healed, cluster.context)
            return FaultResult(
                context=cluster.context, namespace=namespace, pods=healed, fault=None
            )
    except (clusters.ClusterError, ValueError) as exc:
        raise ActivityFailed(f"clear_fault: {exc}") from exc


def _fault(
    cluster: clusters.Cluster,
    pod: Any,
    annotation: str,
    fault: dict[str, Any],
    run_id: str,
) -> None:
    """Record (unless this run did already) and set one pod's fault, conditionally."""
    name, namespace = pod.metadata.name, pod.metadata.namespace
    what = f"pod {namespace}/{name} in {cluster.describe()}"

    def take(current: Any, held: Any) -> dict[str, Any]:
        values = {annotation: json.dumps(fault, sort_keys=True)}
        if held is None:
            before = (current.metadata.annotations or {}).get(annotation)
            prior = {"annotation": annotation, "fault": before}
            record = annotations.RestoreRecord(run_id, "inject_fault", prior)
            values[annotations.RESTORE_KEY] = record.dumps()
        return {"metadata": {"annotations": values}}

    annotations.hold(
        what,
        run_id,
        read=lambda: clusters.call(
            cluster, what, cluster.core.read_namespaced_pod, name, namespace
        ),
        write=lambda body: clusters.call(
            cluster, what, cluster.core.patch_namespaced_pod, name, namespace, body
        ),
        body=take,
        first=pod,
    )


def _pods(
    cluster: clusters.Cluster,
    namespace: str,
    selector: str,
    zone: str,
    *,
    required: bool = True,
) -> list[Any]:
    pods = clusters.list_pods(cluster, namespace, selector)
    if zone:
        zones = locality.node_zones(cluster)
        pods = [p for p in pods if zones.get(p.spec.node_name or "") == zone]
    if required and not pods:
        where = f" in zone {zone}" if zone else ""
        raise clusters.NotFound(
            f"no pod '{selector}' in namespace {namespace}{where}"
            f" ({cluster.describe()})"
        )
    return pods
