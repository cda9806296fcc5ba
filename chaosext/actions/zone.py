"""Take a zone out of one cluster (cordon its nodes, evict a workload), and back."""

import logging
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, undo
from chaosext.locality import ZONE

__all__ = ["cordon_zone", "uncordon_zone"]

logger = logging.getLogger("chaostoolkit")


class ZoneResult(TypedDict):
    context: str
    zone: str
    nodes: list[str]
    changed: list[str]
    evicted: list[str]
    namespace: str
    returned: list[str]


def cordon_zone(
    zone: str,
    context: str = "",
    evict_selector: str = "",
    namespace: str = "default",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> ZoneResult | annotations.Plan:
    """Cordon every node of one zone in one cluster; optionally evict a workload there.

    Touches only nodes labelled `topology.kubernetes.io/zone=<zone>` in `context`.
    Each node gets a restore record (its prior `spec.unschedulable`) in the same
    patch that cordons it, so `uncordon_zone`, the restore control or
    `meshdrill recover` puts back exactly what was there (a node that was already
    cordoned stays cordoned). With `evict_selector` (e.g. `app=hello-world`), the
    pods of that selector in `namespace` on those nodes are evicted (policy/v1
    Eviction, so PodDisruptionBudgets apply); their replacements cannot land in
    the cordoned zone. The record also holds how many of those pods the zone had,
    so that undoing it moves as many back (see `chaosext.placement`), one at a
    time. Idempotent within a run.
    Fails (ActivityFailed) when no node has that zone (naming the zones there are),
    when a node is held by another drill, or the cluster cannot be reached.
    """
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            nodes = _zone_nodes(cluster, zone)
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    _cordon_plan(cluster, nodes, namespace, evict_selector, run_id),
                )
            changed: list[str] = []
            in_zone = {n.metadata.name for n in nodes}
            returning = _return_spec(cluster, zone, namespace, evict_selector, in_zone)
            for node in nodes:
                if _cordon(cluster, node, run_id, returning):
                    changed.append(node.metadata.name)
            names = [n.metadata.name for n in nodes]
            logger.info(
                "cordoned zone %s in '%s': nodes %s", zone, cluster.context, names
            )
            evicted = (
                _evict(cluster, namespace, evict_selector, set(names))
                if evict_selector
                else []
            )
            return ZoneResult(
                context=cluster.context,
                zone=zone,
                nodes=names,
                changed=changed,
                evicted=evicted,
                namespace=namespace,
                returned=[],
            )
    except (clusters.ClusterError, annotations.Held, ValueError) as exc:
        raise ActivityFailed(f"cordon_zone: {exc}") from exc


def uncordon_zone(
    zone: str,
    context: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> ZoneResult | annotations.Plan:
    """Undo `cordon_zone`: put back the nodes of a zone that this run cordoned.

    Only nodes carrying this run's restore record are touched, and each gets back
    its prior `spec.unschedulable`; nodes cordoned by someone else stay as they
    are. Then the pods `cordon_zone` evicted are moved back into the zone, one at
    a time, honouring PodDisruptionBudgets and waiting for each to be ready
    (`returned` lists the pods evicted elsewhere to make room). Idempotent:
    nothing to undo is not an error.
    Fails (ActivityFailed) when the cluster cannot be reached.
    """
    run_id = annotations.run_id_of(configuration)
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            nodes = _zone_nodes(cluster, zone)
            changed: list[str] = []
            returned: list[str] = []
            for node in nodes:
                record = annotations.read_record(node.metadata.annotations)
                if record is None or record.run != run_id:
                    continue
                if annotations.is_dry_run(configuration):
                    changed.append(f"node {node.metadata.name}: back to {record.prior}")
                    continue
                change = undo.Change(
                    cluster.context, "node", "", node.metadata.name, record
                )
                returned += undo.undo(cluster, change)
                logger.info("restored %s", change.describe())
                changed.append(node.metadata.name)
            if annotations.is_dry_run(configuration):
                return annotations.plan(cluster.context, cluster.server, changed)
            return ZoneResult(
                context=cluster.context,
                zone=zone,
                nodes=[n.metadata.name for n in nodes],
                changed=changed,
                evicted=[],
                namespace="",
                returned=returned,
            )
    except (clusters.ClusterError, ValueError) as exc:
        raise ActivityFailed(f"uncordon_zone: {exc}") from exc


def _cordon(
    cluster: clusters.Cluster, node: Any, run_id: str, returning: Any = None
) -> bool:
    """Record and cordon one node (a conditional patch); False if this run had.

    `returning` (the pods to move back into the zone when it is uncordoned) goes
    into the record's prior state, for `placement` to read on undo."""
    name = node.metadata.name
    what = f"node {name} in {cluster.describe()}"
    wrote = False

    def take(current: Any, held: Any) -> dict[str, Any] | None:
        nonlocal wrote
        wrote = held is None
        if held is not None:
            return None  # this run holds it already
        prior: dict[str, Any] = {"unschedulable": bool(current.spec.unschedulable)}
        if returning:
            prior["return_pods"] = returning
        record = annotations.RestoreRecord(run_id, "cordon_zone", prior)
        return annotations.record_patch(record, unschedulable=True)

    annotations.hold(
        what,
        run_id,
        read=lambda: _node_named(cluster, name),
        write=lambda body: clusters.call(
            cluster, what, cluster.core.patch_node, name, body
        ),
        body=take,
        first=node,
    )
    return wrote


def _node_named(cluster: clusters.Cluster, name: str) -> Any:
    found = clusters.call(
        cluster,
        f"node {name}",
        cluster.core.list_node,
        field_selector=f"metadata.name={name}",
    ).items
    if not found:
        raise clusters.NotFound(f"node {name} not found in {cluster.describe()}")
    return found[0]


def _cordon_plan(
    cluster: clusters.Cluster,
    nodes: list[Any],
    namespace: str,
    selector: str,
    run_id: str,
) -> list[str]:
    changes = []
    for node in nodes:
        what = f"node {node.metadata.name}"
        record = annotations.read_record(node.metadata.annotations)
        annotations.check_not_held(what, record, run_id)
        before = bool(node.spec.unschedulable)
        changes.append(f"{what}: unschedulable {before} -> True")
    if selector:
        names = {n.metadata.name for n in nodes}
        changes += [
            f"pod {namespace}/{p.metadata.name}: evicted (on {p.spec.node_name})"
            for p in clusters.list_pods(cluster, namespace, selector)
            if p.spec.node_name in names
        ]
    return changes


def _return_spec(
    cluster: clusters.Cluster,
    zone: str,
    namespace: str,
    selector: str,
    nodes: set[str],
) -> dict[str, Any] | None:
    """What undoing the cordon must move back: the zone's pods of `selector`."""
    if not selector:
        return None
    count = sum(
        1
        for p in clusters.list_pods(cluster, namespace, selector)
        if p.spec.node_name in nodes
    )
    if not count:
        return None
    return {"zone": zone, "namespace": namespace, "selector": selector, "count": count}


def _zone_nodes(cluster: clusters.Cluster, zone: str) -> list[Any]:
    if not zone:
        raise ValueError("argument 'zone' is empty")
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node).items
    in_zone = [n for n in nodes if (n.metadata.labels or {}).get(ZONE) == zone]
    if not in_zone:
        zones = sorted({(n.metadata.labels or {}).get(ZONE, "") for n in nodes} - {""})
        raise clusters.NotFound(
            f"no node labelled {ZONE}={zone} in {cluster.describe()}"
            f" (zones there: {', '.join(zones) or 'none'})"
        )
    return sorted(in_zone, key=lambda n: n.metadata.name)


def _evict(
    cluster: clusters.Cluster, namespace: str, selector: str, nodes: set[str]
) -> list[str]:
    evicted: list[str] = []
    for pod in clusters.list_pods(cluster, namespace, selector):
        if pod.spec.node_name not in nodes:
            continue
        name = pod.metadata.name
        try:
            clusters.evict_pod(cluster, namespace, name)
        except clusters.NotFound:
            continue  # already gone
        evicted.append(name)
    logger.info("evicted %s from %s", evicted, cluster.describe())
    return evicted
