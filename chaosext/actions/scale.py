"""Scale a workload to zero in one cluster, and put it back."""

import logging
import time
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, undo

__all__ = ["restore_replicas", "scale_to_zero"]

logger = logging.getLogger("chaostoolkit")


class ScaleResult(TypedDict):
    context: str
    namespace: str
    deployment: str
    prior_replicas: int | None
    replicas: int
    changed: bool
    at: float


def scale_to_zero(
    deployment: str,
    namespace: str = "default",
    context: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> ScaleResult | annotations.Plan:
    """Scale a Deployment to zero replicas in one cluster, remembering its count.

    Writes the prior replica count onto the Deployment (annotation
    `meshdrill.io/restore`) before scaling, so `restore_replicas`, the restore
    control or `meshdrill recover` can put it back. Idempotent: a second call in
    the same run changes nothing. Refuses (ActivityFailed) when the Deployment is
    missing, the cluster cannot be reached, or another drill holds it.

    Arguments: `deployment`, `namespace`, `context` (kubeconfig context; or secret
    KUBERNETES_CONTEXT inside `provider.secrets`).
    Returns: context, namespace, deployment, prior_replicas, replicas, changed, at.
    """
    return zero(deployment, namespace, context, configuration, secrets)


def zero(
    deployment: str,
    namespace: str,
    context: str,
    configuration: Configuration,
    secrets: Secrets,
    action: str = "scale_to_zero",
) -> ScaleResult | annotations.Plan:
    """`scale_to_zero`, its record and its errors naming `action`."""
    what = f"deployment {namespace}/{deployment}"
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            obj, record = _read(cluster, what, deployment, namespace)
            annotations.check_not_held(
                f"{what} in {cluster.describe()}", record, run_id
            )
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    [f"{what}: replicas {obj.spec.replicas} -> 0"],
                )

            def take(current: Any, held: Any) -> dict[str, Any] | None:
                if held is not None:
                    return None  # this run holds it already
                replicas = current.spec.replicas
                prior = {"replicas": int(replicas if replicas is not None else 1)}
                mine = annotations.RestoreRecord(run_id, action, prior)
                return annotations.record_patch(mine)

            obj, record = annotations.hold(
                f"{what} in {cluster.describe()}",
                run_id,
                read=lambda: _read(cluster, what, deployment, namespace)[0],
                write=lambda body: clusters.call(
                    cluster,
                    what,
                    cluster.apps.patch_namespaced_deployment,
                    deployment,
                    namespace,
                    body,
                ),
                body=take,
                first=obj,
            )
            if record is None:  # hold() found or wrote this run's record
                raise ValueError(f"{what}: no restore record after holding it")
            prior = int(record.prior["replicas"])
            changed = obj.spec.replicas != 0
            if changed:
                _patch(cluster, what, deployment, namespace, None, 0)
            logger.info(
                "scaled %s in context '%s' from %s to 0 replicas",
                what,
                cluster.context,
                prior,
            )
            return ScaleResult(
                context=cluster.context,
                namespace=namespace,
                deployment=deployment,
                prior_replicas=prior,
                replicas=0,
                changed=changed,
                at=time.time(),
            )
    except (clusters.ClusterError, annotations.Held, ValueError) as exc:
        raise ActivityFailed(f"{action}: {exc}") from exc


def restore_replicas(
    deployment: str,
    namespace: str = "default",
    context: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> ScaleResult | annotations.Plan:
    """Put a Deployment back to the replica count `scale_to_zero` recorded on it.

    Idempotent: with no record on the Deployment there is nothing to restore, and
    that is not an error (`changed` is false). A record left by another run is
    left alone (that run, or `meshdrill recover`, restores it).
    Fails (ActivityFailed) when the Deployment is missing or the cluster cannot be
    reached.
    """
    return restore(deployment, namespace, context, configuration, secrets)


def restore(
    deployment: str,
    namespace: str,
    context: str,
    configuration: Configuration,
    secrets: Secrets,
    action: str = "restore_replicas",
) -> ScaleResult | annotations.Plan:
    """`restore_replicas`, its errors naming `action`."""
    what = f"deployment {namespace}/{deployment}"
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            obj, record = _read(cluster, what, deployment, namespace)
            result = ScaleResult(
                context=cluster.context,
                namespace=namespace,
                deployment=deployment,
                prior_replicas=None,
                replicas=int(obj.spec.replicas or 0),
                changed=False,
                at=time.time(),
            )
            if record is not None and record.run != run_id:
                record = None  # another run's: that run, or recover, restores it
            if annotations.is_dry_run(configuration):
                changes = [f"{what}: replicas -> {record.prior}"] if record else []
                return annotations.plan(cluster.context, cluster.server, changes)
            if record is None:
                logger.info("%s in '%s': nothing to restore", what, cluster.context)
                return result
            change = undo.Change(
                cluster.context, "deployment", namespace, deployment, record
            )
            undo.undo(cluster, change)
            logger.info("restored %s", change.describe())
            result["prior_replicas"] = int(record.prior["replicas"])
            result["replicas"] = int(record.prior["replicas"])
            result["changed"] = True
            return result
    except (clusters.ClusterError, ValueError) as exc:
        raise ActivityFailed(f"{action}: {exc}") from exc


def _read(
    cluster: clusters.Cluster, what: str, name: str, namespace: str
) -> tuple[Any, annotations.RestoreRecord | None]:
    """The Deployment and the restore record on it (None when it has none)."""
    obj = clusters.call(
        cluster, what, cluster.apps.read_namespaced_deployment, name, namespace
    )
    return obj, annotations.read_record(obj.metadata.annotations)


def _patch(
    cluster: clusters.Cluster,
    what: str,
    name: str,
    namespace: str,
    record: str | None,
    replicas: int | None,
) -> None:
    body: dict[str, object] = {}
    if record is not None:
        body["metadata"] = {"annotations": {annotations.RESTORE_KEY: record}}
    if replicas is not None:
        body["spec"] = {"replicas": replicas}
    clusters.call(
        cluster, what, cluster.apps.patch_namespaced_deployment, name, namespace, body
    )
