"""Put a workload's pods back in a zone they were evicted from, one at a time.

Uncordoning a zone lets pods land there again, but the pods that left stay where
they went: a zone outage drill would leave the zone empty, and the next drill
(a region failover whose steady state needs the client's zone) fails on it.
`return_pods` moves them back as a careful operator would: one pod at a time,
evicting a pod of the workload from another zone (its replacement goes to the
emptiest zone, the one that was drained), only when every PodDisruptionBudget
of the workload allows a disruption (a cluster that serves none, such as the
lab, has none), and waiting for the replacement to be ready in the zone before
moving the next. A pod elsewhere that is not ready yet (typically the drained
pods' own replacements, still starting when the zone comes back) is moved first,
without waiting for the workload to settle: it serves nothing, so moving it
costs no capacity, and waiting for it to become ready only to evict it would
double the restore's time (the Eviction API still applies the budgets to it).
The count to reach is what `cordon_zone` recorded on the zone's nodes before it
evicted anything, so `meshdrill recover` does the same.
"""

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client as k8s

from chaosext import clusters, locality

__all__ = ["ReturnSpec", "return_pods"]

logger = logging.getLogger("chaostoolkit")

ReturnSpec = Mapping[str, Any]
"""{"zone", "namespace", "selector", "count"}: what `cordon_zone` recorded."""

POLL = 0.2
"""Seconds between two looks at the pods while waiting."""


def return_pods(
    cluster: clusters.Cluster,
    spec: ReturnSpec,
    *,
    deadline: float = 180.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Move pods back into `spec["zone"]` until it has `spec["count"]`; return
    the pods evicted for it. ClusterError (naming the zone and the count) when
    the deadline passes first."""
    zone = str(spec["zone"])
    namespace = str(spec["namespace"])
    selector = str(spec["selector"])
    wanted = int(spec["count"])
    ends = clock() + deadline
    moved: list[str] = []
    zones = locality.node_zones(cluster)
    where = f"zone {zone} in {cluster.describe()}"
    while True:
        pods = clusters.list_pods(cluster, namespace, selector)
        inside = [p for p in pods if zones.get(p.spec.node_name or "") == zone]
        if len(inside) >= wanted:
            if moved:
                logger.info("moved %s back into %s", moved, where)
            return moved
        outside = [p for p in pods if p.spec.node_name and p not in inside]
        if not outside:
            return moved  # nothing left elsewhere to move
        if clock() > ends:
            raise clusters.ClusterError(
                f"pods of '{selector}' did not return to {where}:"
                f" {len(inside)} of {wanted} after {deadline:g} s"
                f" (moved {', '.join(moved) or 'none'})"
            )
        starting = [p for p in outside if _starting(p)]
        if not starting and not _settled(cluster, namespace, selector, pods):
            sleep(POLL)
            continue
        pod = max(
            starting or outside,
            key=lambda p: (p.metadata.creation_timestamp, p.metadata.name),
        )
        if _evict(cluster, namespace, pod.metadata.name):
            moved.append(pod.metadata.name)
            _wait_in_zone(
                cluster,
                namespace,
                selector,
                zones,
                zone,
                len(inside),
                ends,
                clock,
                sleep,
            )
        else:
            sleep(POLL)


def _settled(
    cluster: clusters.Cluster, namespace: str, selector: str, pods: list[Any]
) -> bool:
    """Every pod ready, and every PodDisruptionBudget of them allows a disruption."""
    if not all(_ready(p) for p in pods):
        return False
    labels = [p.metadata.labels or {} for p in pods]
    for budget in _budgets(cluster, namespace):
        match = (
            (budget.spec.selector.match_labels or {}) if budget.spec.selector else {}
        )
        if (
            any(match.items() <= lab.items() for lab in labels)
            and ((budget.status.disruptions_allowed if budget.status else 0) or 0) < 1
        ):
            return False
    return True


def _budgets(cluster: clusters.Cluster, namespace: str) -> list[Any]:
    """The namespace's PodDisruptionBudgets; none where the API serves none."""
    api = k8s.PolicyV1Api(cluster.api_client)
    try:
        return list(
            clusters.call(
                cluster,
                f"poddisruptionbudgets in namespace {namespace}",
                api.list_namespaced_pod_disruption_budget,
                namespace,
            ).items
        )
    except clusters.NotFound:
        return []


def _evict(cluster: clusters.Cluster, namespace: str, name: str) -> bool:
    """Evict one pod; False when a disruption budget refuses it for now (429)."""
    try:
        clusters.evict_pod(cluster, namespace, name)
    except clusters.NotFound:
        return False
    except clusters.ClusterError as exc:
        if "HTTP 429" in str(exc):
            return False
        raise
    return True


def _wait_in_zone(
    cluster: clusters.Cluster,
    namespace: str,
    selector: str,
    zones: dict[str, str],
    zone: str,
    before: int,
    ends: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """Until the zone has one more ready pod than `before` (or the deadline)."""
    while clock() <= ends:
        pods = clusters.list_pods(cluster, namespace, selector)
        ready = [
            p for p in pods if zones.get(p.spec.node_name or "") == zone and _ready(p)
        ]
        if len(ready) > before:
            return
        sleep(POLL)


def _starting(pod: Any) -> bool:
    """Not ready yet and not on its way out: moving it costs no capacity."""
    return not _ready(pod) and pod.metadata.deletion_timestamp is None


def _ready(pod: Any) -> bool:
    conditions = (pod.status.conditions if pod.status else None) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)
