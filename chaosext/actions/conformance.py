"""Conformance: take each locality the client's traffic reaches down in turn, and
check traffic goes where the mesh's own config predicts, then comes back.

No hand-written numbers: the localities and every expected split come from the
live mesh (probes.predicted). A locality here is a cluster (a kubeconfig context
of the workload): it is taken down by scaling the workload there to zero with
`chaosext.actions.scale` (restore record first, so the rollbacks, the restore
control and `meshdrill recover` can put it back), and brought back with
`restore_replicas`.
"""

import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters
from chaosext.actions import scale
from probes import arguments, predicted, waiting

__all__ = ["lose_each_locality", "restore_each_locality"]

logger = logging.getLogger("chaostoolkit")
POLL = 0.2


def _ready(pod: Any) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _enough_ready(wanted: int, pods: list[Any]) -> bool:
    return sum(map(_ready, pods)) >= wanted


def _wait_pods(
    context: str,
    workload: Mapping[str, Any],
    done: Callable[[list[Any]], bool],
    what: str,
    deadline: float,
    configuration: Configuration,
    secrets: Secrets,
) -> None:
    """Poll the workload's live pods in `context` until `done(pods)`, or fail."""
    namespace = str(workload.get("namespace", "default"))
    selector = str(workload.get("selector", ""))
    end = time.monotonic() + deadline
    with clusters.connect(context, configuration, secrets) as cluster:
        while True:
            pods = clusters.list_pods(cluster, namespace, selector)
            if done(pods):
                return
            if time.monotonic() >= end:
                raise ActivityFailed(
                    f"lose_each_locality: {what} in {cluster.describe()} not seen"
                    f" within {deadline:g} s ({len(pods)} live pods of '{selector}')"
                )
            time.sleep(POLL)


def _wait(
    expected: dict[str, float],
    source: dict[str, Any],
    workload: dict[str, Any],
    settings: Mapping[str, Any],
    deadline: float,
    configuration: Configuration,
    secrets: Secrets,
) -> dict[str, Any]:
    return waiting.wait_for_split(
        expected,
        source,
        workload,
        by="cluster",
        tolerance=settings["tolerance"],
        batch=settings["batch"],
        consecutive=settings["consecutive"],
        deadline=deadline,
        max_samples=settings["max_samples"],
        configuration=configuration,
        secrets=secrets,
    )


def _summary(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "verdict",
        "passed",
        "expected",
        "counts",
        "started_at",
        "transition_seconds",
        "reasons",
    )
    return {k: result.get(k) for k in keys}


def lose_each_locality(
    deployment: str,
    source: dict[str, Any],
    workload: dict[str, Any],
    tolerance: float = 0.1,
    batch: int = 50,
    consecutive: int = 3,
    deadline: float = 60.0,
    recovery_deadline: float = 120.0,
    max_samples: int = 2000,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Take each cluster the client's traffic reaches down in turn; judge each
    failover and recovery against the split the live config predicts.

    For each context of `workload` that gets a share of the client's requests now
    (predicted from the live mesh for `source`'s client): scale `deployment` there
    to zero; once its pods are gone from the API, predict again and wait (batches
    of `batch`, `consecutive` in a row, `tolerance`, up to `deadline` s) for
    traffic, by cluster, to match; restore the replicas; once they are ready,
    wait (up to `recovery_deadline` s) for the first prediction again. Stops at
    the first locality whose traffic does not match. A locality whose loss would
    leave no endpoint is reported and not taken down.

    Returns `passed`, `reasons` (each naming the locality and the numbers) and,
    per locality, the prediction and the sampled counts of both waits.
    Fails (ActivityFailed) when the mesh cannot be read or an action fails; the
    locality being drilled is restored first.
    """
    contexts = [str(c) for c in workload.get("contexts") or []]
    namespace = str(workload.get("namespace", "default"))
    deadline = arguments.real("deadline", deadline, low=0.0)
    recovery_deadline = arguments.real("recovery_deadline", recovery_deadline, low=0.0)
    settings = {
        "tolerance": tolerance,
        "batch": batch,
        "consecutive": consecutive,
        "max_samples": max_samples,
    }
    if annotations.is_dry_run(configuration):
        return {"passed": True, "verdict": "skipped", "dry_run": True}
    baseline = predicted.expected_split(
        predicted.PREDICTED, source, workload, "cluster", configuration, secrets
    )
    localities = [c for c in contexts if baseline.get(c, 0.0) > 0]
    report: dict[str, Any] = {
        "baseline": baseline,
        "localities": [],
        "skipped": [],
        "reasons": [],
    }
    for context in localities:
        entry: dict[str, Any] = {"locality": f"cluster {context}"}
        logger.info("conformance: taking cluster %s down", context)
        report["localities"].append(entry)
        scale.scale_to_zero(deployment, namespace, context, configuration, secrets)
        try:
            _wait_pods(
                context,
                workload,
                lambda pods: not pods,
                "no live pod",
                deadline,
                configuration,
                secrets,
            )
            try:
                down = predicted.expected_split(
                    predicted.PREDICTED,
                    source,
                    workload,
                    "cluster",
                    configuration,
                    secrets,
                )
            except ActivityFailed as exc:
                report["skipped"].append(f"cluster {context}: {exc}")
                entry["skipped"] = str(exc)
                continue
            entry["predicted"] = down
            entry["failover"] = _summary(
                _wait(
                    down, source, workload, settings, deadline, configuration, secrets
                )
            )
        finally:
            result = scale.restore_replicas(
                deployment, namespace, context, configuration, secrets
            )
        wanted = int(cast(dict[str, Any], result).get("replicas") or 0)
        _wait_pods(
            context,
            workload,
            functools.partial(_enough_ready, wanted),
            f"{wanted} ready pods",
            recovery_deadline,
            configuration,
            secrets,
        )
        entry["recovery"] = _summary(
            _wait(
                baseline,
                source,
                workload,
                settings,
                recovery_deadline,
                configuration,
                secrets,
            )
        )
        for phase in ("failover", "recovery"):
            if not entry.get(phase, {}).get("passed", True):
                reasons = "; ".join(entry[phase]["reasons"] or [])
                report["reasons"].append(
                    f"cluster {context} down, {phase}: predicted"
                    f" {entry['predicted'] if phase == 'failover' else baseline}:"
                    f" {reasons}"
                )
        if report["reasons"]:
            break
    report["passed"] = not report["reasons"]
    report["verdict"] = "passed" if report["passed"] else "failed"
    return report


def restore_each_locality(
    deployment: str,
    workload: dict[str, Any],
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> list[dict[str, Any]]:
    """Rollback: `restore_replicas` in every context of `workload` (idempotent).

    Puts back each replica count this run recorded on `deployment` (in
    `workload.namespace`); a context without a record is left as it is.
    Returns one `restore_replicas` result per context.
    Fails (ActivityFailed) when a cluster cannot be reached.
    """
    namespace = str(workload.get("namespace", "default"))
    return [
        dict(
            scale.restore_replicas(
                deployment, namespace, str(c), configuration, secrets
            )
        )
        for c in workload.get("contexts") or []
    ]
