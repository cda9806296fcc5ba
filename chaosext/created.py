"""Objects meshdrill creates (rather than changes): Istio EnvoyFilters for faults.

A created object carries its restore record (annotation `meshdrill.io/restore`,
prior `{"created": true}`: undoing it deletes it) and the labels
`app.kubernetes.io/managed-by=meshdrill` and `meshdrill.io/run=<run id>`, so the
rollbacks, the restore control and `meshdrill recover` find it by label, and
delete it even when its record annotation was removed by hand.
"""

import contextlib
import re
from collections.abc import Collection
from typing import Any

from chaosext import clusters
from chaosext.annotations import RestoreRecord, read_record

__all__ = [
    "ENVOY_FILTERS",
    "MANAGED_BY",
    "RUN_LABEL",
    "delete_envoy_filter",
    "envoy_filters",
    "labels_for",
    "record_of",
]

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "meshdrill"
RUN_LABEL = "meshdrill.io/run"
ENVOY_FILTERS = ("networking.istio.io", "v1alpha3", "envoyfilters")
LOST_RECORD_ACTION = "inject_http_fault"
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


def labels_for(run_id: str) -> dict[str, str]:
    """The labels a created object carries (the run label when a valid value)."""
    labels = {MANAGED_BY: MANAGER}
    if _LABEL_VALUE.match(run_id):
        labels[RUN_LABEL] = run_id
    return labels


def record_of(obj: dict[str, Any]) -> RestoreRecord:
    """The object's restore record; without one, a record made from its labels.

    A malformed record raises ValueError (as `read_record` does).
    """
    meta = obj.get("metadata") or {}
    record = read_record(meta.get("annotations"))
    if record is not None:
        return record
    run = (meta.get("labels") or {}).get(RUN_LABEL, "unknown")
    return RestoreRecord(run, LOST_RECORD_ACTION, {"created": True}, at="", by="")


def envoy_filters(
    cluster: clusters.Cluster, namespaces: Collection[str] | None
) -> list[dict[str, Any]]:
    """The EnvoyFilters meshdrill created (by label), in `namespaces` or in all.

    A cluster that does not serve EnvoyFilters (no Istio CRDs) has none.
    """
    group, version, plural = ENVOY_FILTERS
    selector = f"{MANAGED_BY}={MANAGER}"
    found: list[dict[str, Any]] = []
    try:
        if namespaces is None:
            found += clusters.call(
                cluster,
                "envoyfilters",
                cluster.custom.list_cluster_custom_object,
                group,
                version,
                plural,
                label_selector=selector,
            )["items"]
        else:
            for ns in sorted(set(namespaces)):
                found += clusters.call(
                    cluster,
                    f"envoyfilters in namespace {ns}",
                    cluster.custom.list_namespaced_custom_object,
                    group,
                    version,
                    ns,
                    plural,
                    label_selector=selector,
                )["items"]
    except clusters.NotFound:
        return []  # the kind is not served: Istio is not installed
    return found


def delete_envoy_filter(cluster: clusters.Cluster, namespace: str, name: str) -> None:
    """Delete one EnvoyFilter; one already gone is fine."""
    group, version, plural = ENVOY_FILTERS
    with contextlib.suppress(clusters.NotFound):
        clusters.call(
            cluster,
            f"envoyfilter {namespace}/{name}",
            cluster.custom.delete_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
        )
