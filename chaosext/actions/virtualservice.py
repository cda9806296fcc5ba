"""The VirtualService (client-side) form of `inject_http_fault` / `clear_http_fault`.

Istio VirtualService fault injection, as chaostoolkit-istio offers it: a
VirtualService on a host with `http[].fault` (abort, delay), routing to that host,
created in one context. It acts in the CALLERS' Envoys (sidecars and waypoints of
that cluster that see it) for requests to the host: an abort is answered by the
caller's proxy without contacting any upstream (so no outlier detection sees
it), a delay holds the request before it is forwarded. ztunnel ignores it.

Istio applies one VirtualService per host to sidecars (the oldest; gateways merge
them), so meshdrill refuses when the context already has a VirtualService for the
host that is not this run's own: a second one would be ignored, or would change
that routing. Created like the EnvoyFilter form (`chaosext.created`): the restore
record and the run's labels in the same write, deleted by `clear_http_fault`, the
restore control and `meshdrill recover`.
"""

import logging
import re
from typing import Any, TypedDict

from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, created, undo
from chaosext.mesh import lookup, virtualservice
from chaosext.mesh.httpfault import HttpFault

logger = logging.getLogger("chaostoolkit")

NAME_PREFIX = "meshdrill-client-fault-"
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class ClientFaultResult(TypedDict):
    context: str
    namespace: str
    virtualservice: str
    host: str
    fault: str
    changed: bool


def mesh_host(host: str, namespace: str) -> str:
    """The host as istiod reads it: a short name completed in `namespace`.

    Refuses (ValueError) anything but one DNS name (no wildcard, no port).
    """
    given = str(host).strip()
    if not _HOST.match(given) or len(given) > 253:
        raise ValueError(
            f"host '{host}': one DNS name (e.g. reviews or"
            " reviews.shop.svc.cluster.local), no wildcard, scheme or port"
        )
    return lookup.fqdn(given, namespace)


def default_name(host: str) -> str:
    """`meshdrill-client-fault-<host's first label>`, as a valid object name."""
    return (NAME_PREFIX + host.split(".", 1)[0])[:63].rstrip("-")


def _others(
    cluster: clusters.Cluster, host: str, namespace: str, name: str
) -> list[dict[str, Any]]:
    """The context's VirtualServices (all namespaces) routing `host` for the
    mesh, other than meshdrill's own `namespace/name`."""
    group, version, plural = created.VIRTUAL_SERVICES
    try:
        items = clusters.call(
            cluster,
            "virtualservices",
            cluster.custom.list_cluster_custom_object,
            group,
            version,
            plural,
        )["items"]
    except clusters.NotFound:
        return []  # not served: the create below says Istio is missing
    found = []
    for obj in items:
        meta = obj.get("metadata") or {}
        if (meta.get("namespace"), meta.get("name")) == (namespace, name):
            continue
        bound = virtualservice.MESH in virtualservice.gateways_of(obj)
        if bound and virtualservice.serves(obj, host):
            found.append(obj)
    return found


def _refuse_others(cluster: clusters.Cluster, host: str, others: list[Any]) -> None:
    meta = others[0]["metadata"]
    where = f"virtualservice {meta['namespace']}/{meta['name']}"
    labels = meta.get("labels") or {}
    if labels.get(created.MANAGED_BY) == "meshdrill":
        owner = f"meshdrill created it for run {labels.get(created.RUN_LABEL, '?')}"
    else:
        owner = "meshdrill did not create it"
    raise ValueError(
        f"{where} in {cluster.describe()} already routes {host} for the mesh"
        f" ({owner}): Istio applies one VirtualService per host to sidecars (the"
        " oldest; the others are ignored), so a second one would be ignored or"
        " change that routing; put the fault in that VirtualService, or use the"
        " EnvoyFilter form (`selector`)"
    )


def inject(
    host: str,
    namespace: str,
    context: str,
    fault: HttpFault,
    name: str,
    configuration: Configuration,
    secrets: Secrets,
) -> ClientFaultResult | annotations.Plan:
    """Create (or bring this run's to `fault`) the VirtualService fault on `host`."""
    fqdn = mesh_host(host, namespace)
    name = name or default_name(fqdn)
    run_id = annotations.run_id_of(configuration)
    what = f"virtualservice {namespace}/{name}"
    with clusters.connect(context, configuration, secrets) as cluster:
        others = _others(cluster, fqdn, namespace, name)
        if others:
            _refuse_others(cluster, fqdn, others)
        if annotations.is_dry_run(configuration):
            return annotations.plan(
                cluster.context,
                cluster.server,
                [f"{what}: {fault.describe()} on the mesh's requests to {fqdn}"],
            )
        wanted = virtualservice.virtual_service(
            name, namespace, fqdn, fault, *created.stamp(run_id, "inject_http_fault")
        )
        changed = created.ensure(cluster, created.VIRTUAL_SERVICE, wanted, run_id)
        logger.info(
            "%s in '%s': %s on requests to %s",
            what,
            cluster.context,
            fault.describe(),
            fqdn,
        )
        return ClientFaultResult(
            context=cluster.context,
            namespace=namespace,
            virtualservice=name,
            host=fqdn,
            fault=fault.describe(),
            changed=changed,
        )


def clear(
    host: str,
    namespace: str,
    context: str,
    name: str,
    configuration: Configuration,
    secrets: Secrets,
) -> ClientFaultResult | annotations.Plan:
    """Delete this run's VirtualService fault on `host` (none: `changed` false)."""
    fqdn = mesh_host(host, namespace)
    name = name or default_name(fqdn)
    run_id = annotations.run_id_of(configuration)
    kind = created.VIRTUAL_SERVICE
    with clusters.connect(context, configuration, secrets) as cluster:
        obj = created.read(cluster, kind, namespace, name)
        record = created.record_of(obj) if obj is not None else None
        mine = record is not None and record.run == run_id
        if annotations.is_dry_run(configuration):
            changes = [f"virtualservice {namespace}/{name}: deleted"] if mine else []
            return annotations.plan(cluster.context, cluster.server, changes)
        if mine and record is not None:
            change = undo.Change(cluster.context, kind, namespace, name, record)
            undo.undo(cluster, change)
            logger.info(
                "deleted virtualservice %s/%s in '%s'", namespace, name, cluster.context
            )
        return ClientFaultResult(
            context=cluster.context,
            namespace=namespace,
            virtualservice=name,
            host=fqdn,
            fault="no fault",
            changed=mine,
        )
