"""Delete the workload's pods in the zone of a client pod (guide 001, step 4)."""

import logging
from typing import TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, locality

__all__ = ["delete_same_zone_pod"]

logger = logging.getLogger("chaostoolkit")


class DeleteResult(TypedDict):
    context: str
    namespace: str
    zone: str
    client_pod: str
    deleted: list[str]
    remaining: list[str]


def delete_same_zone_pod(
    selector: str,
    client_pod: str,
    namespace: str = "default",
    client_namespace: str = "",
    context: str = "",
    grace_period_seconds: int = 0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> DeleteResult | annotations.Plan:
    """Delete the workload's pods that run in the same zone as a client pod.

    The guide's `kubectl delete pod $(... -o jsonpath='{.items[0]...}')` picks
    whichever pod is listed first; this action picks by zone: it reads the zone
    of `client_pod` (a pod name or `deploy/NAME`, in `client_namespace`, default
    `namespace`) from its node, and deletes every pod matching `selector` in
    `namespace` whose node is in that zone. Returns which pods were deleted and
    which remain. Nothing to restore: the workload's controller replaces them
    (in the same zone, as a real scheduler would, unless it is cordoned).
    Fails (ActivityFailed) when the client pod, its node's zone or any pod of
    the workload in that zone cannot be found.
    """
    client_namespace = client_namespace or namespace
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            zone_of = locality.node_zones(cluster)
            client = clusters.resolve_pod(cluster, client_namespace, client_pod)
            zone = zone_of.get(client.spec.node_name or "", "")
            if not zone:
                raise clusters.ClusterError(
                    f"client pod {client_namespace}/{client.metadata.name} runs on"
                    f" node '{client.spec.node_name}', which has no"
                    f" {locality.ZONE} label"
                )
            pods = clusters.list_pods(cluster, namespace, selector)
            same = [
                p.metadata.name
                for p in pods
                if zone_of.get(p.spec.node_name or "") == zone
            ]
            if not same:
                raise clusters.NotFound(
                    f"no pod '{selector}' in {namespace} runs in zone {zone}"
                    f" ({cluster.describe()})"
                )
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    [f"pod {namespace}/{name}: deleted (zone {zone})" for name in same],
                )
            for name in same:
                clusters.call(
                    cluster,
                    f"pod {namespace}/{name}",
                    cluster.core.delete_namespaced_pod,
                    name,
                    namespace,
                    grace_period_seconds=grace_period_seconds,
                )
            logger.info("deleted %s (zone %s) in '%s'", same, zone, cluster.context)
            return DeleteResult(
                context=cluster.context,
                namespace=namespace,
                zone=zone,
                client_pod=client.metadata.name,
                deleted=same,
                remaining=sorted(
                    p.metadata.name for p in pods if p.metadata.name not in same
                ),
            )
    except clusters.ClusterError as exc:
        raise ActivityFailed(f"delete_same_zone_pod: {exc}") from exc
