"""Objects meshdrill creates (rather than changes): Istio EnvoyFilters (server-side
faults) and VirtualServices (client-side faults).

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

from chaosext import annotations, clusters
from chaosext.annotations import RestoreRecord, read_record

__all__ = [
    "ENVOY_FILTERS",
    "KINDS",
    "MANAGED_BY",
    "RUN_LABEL",
    "VIRTUAL_SERVICES",
    "delete",
    "delete_envoy_filter",
    "ensure",
    "envoy_filters",
    "labels_for",
    "managed",
    "read",
    "record_of",
]

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "meshdrill"
RUN_LABEL = "meshdrill.io/run"
ENVOY_FILTERS = ("networking.istio.io", "v1alpha3", "envoyfilters")
VIRTUAL_SERVICES = ("networking.istio.io", "v1", "virtualservices")
ENVOY_FILTER = "envoyfilter"
VIRTUAL_SERVICE = "virtualservice"
KINDS = {ENVOY_FILTER: ENVOY_FILTERS, VIRTUAL_SERVICE: VIRTUAL_SERVICES}
"""The kinds meshdrill creates: kind of change (`undo.Change.kind`) -> API."""
LOST_RECORD_ACTION = "inject_http_fault"
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$")


def labels_for(run_id: str) -> dict[str, str]:
    """The labels a created object carries (the run label when a valid value)."""
    labels = {MANAGED_BY: MANAGER}
    if _LABEL_VALUE.match(run_id):
        labels[RUN_LABEL] = run_id
    return labels


def stamp(run_id: str, action: str) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and annotations of an object `action` creates for `run_id`: its
    restore record goes in the same write as the object itself."""
    record = RestoreRecord(run_id, action, {"created": True})
    return labels_for(run_id), {annotations.RESTORE_KEY: record.dumps()}


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


def managed(
    cluster: clusters.Cluster, kind: str, namespaces: Collection[str] | None
) -> list[dict[str, Any]]:
    """The objects of `kind` (a `KINDS` key) meshdrill created (by label), in
    `namespaces` or in all. A cluster that does not serve the kind (no Istio
    CRDs) has none.
    """
    group, version, plural = KINDS[kind]
    selector = f"{MANAGED_BY}={MANAGER}"
    found: list[dict[str, Any]] = []
    try:
        if namespaces is None:
            found += clusters.call(
                cluster,
                plural,
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
                    f"{plural} in namespace {ns}",
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


def envoy_filters(
    cluster: clusters.Cluster, namespaces: Collection[str] | None
) -> list[dict[str, Any]]:
    """The EnvoyFilters meshdrill created (`managed`)."""
    return managed(cluster, ENVOY_FILTER, namespaces)


def read(
    cluster: clusters.Cluster, kind: str, namespace: str, name: str
) -> dict[str, Any] | None:
    """One object of `kind`, or None when there is none of that name."""
    group, version, plural = KINDS[kind]
    try:
        obj: dict[str, Any] = clusters.call(
            cluster,
            f"{kind} {namespace}/{name}",
            cluster.custom.get_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
        )
    except clusters.NotFound:
        return None
    return obj


def delete(cluster: clusters.Cluster, kind: str, namespace: str, name: str) -> None:
    """Delete one object of `kind`; one already gone is fine."""
    group, version, plural = KINDS[kind]
    with contextlib.suppress(clusters.NotFound):
        clusters.call(
            cluster,
            f"{kind} {namespace}/{name}",
            cluster.custom.delete_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
        )


def delete_envoy_filter(cluster: clusters.Cluster, namespace: str, name: str) -> None:
    """Delete one EnvoyFilter; one already gone is fine."""
    delete(cluster, ENVOY_FILTER, namespace, name)


def ensure(
    cluster: clusters.Cluster, kind: str, wanted: dict[str, Any], run_id: str
) -> bool:
    """Create `wanted`, or bring this run's object to its spec; True when written.

    Refuses (ValueError) an object of that name meshdrill did not create, and
    (`annotations.Held`) one another run holds.
    """
    group, version, plural = KINDS[kind]
    meta = wanted["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    what = f"{kind} {namespace}/{name}"
    for _ in range(annotations.HOLD_ATTEMPTS):
        current = read(cluster, kind, namespace, name)
        if current is None:
            try:
                clusters.call(
                    cluster,
                    what,
                    cluster.custom.create_namespaced_custom_object,
                    group,
                    version,
                    namespace,
                    plural,
                    wanted,
                )
            except clusters.Conflict:
                continue  # created meanwhile (AlreadyExists): look at it again
            except clusters.NotFound as exc:
                raise clusters.NotFound(
                    f"{cluster.describe()} does not serve {plural}"
                    f" ({group}/{version}): is Istio installed, with its CRDs?"
                ) from exc
            return True
        held = annotations.read_record((current["metadata"]).get("annotations"))
        if held is None:
            raise ValueError(
                f"{what} in {cluster.describe()} exists and meshdrill did not create"
                " it; choose another `name`"
            )
        annotations.check_not_held(f"{what} in {cluster.describe()}", held, run_id)
        if current.get("spec") == wanted["spec"]:
            return False
        update = {**current, "spec": wanted["spec"]}
        try:
            clusters.call(
                cluster,
                what,
                cluster.custom.replace_namespaced_custom_object,
                group,
                version,
                namespace,
                plural,
                name,
                update,
            )
        except clusters.Conflict:
            continue
        return True
    raise clusters.Conflict(
        f"{what} changed each of the {annotations.HOLD_ATTEMPTS} times it was read"
        " and written; try again"
    )
