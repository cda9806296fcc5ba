"""Make a workload's own sidecar answer errors or delays: an Istio EnvoyFilter;
or make the callers' proxies do it for a host: an Istio VirtualService fault.

The way platform teams make a workload fail on a sidecar mesh without touching
the application: Envoy's HTTP fault filter on the workload's INBOUND listener
(`chaosext.mesh.httpfault`), scoped by `workloadSelector` to the workload's
labels, created in one context only. The pods stay up and Ready; callers see real
upstream 5xx (or slow answers) and their outlier detection ejects the pods.

The EnvoyFilter is created with its restore record and the run's labels in the
same write (`chaosext.created`), so `clear_http_fault`, the restore control and
`meshdrill recover` delete it, even after a kill -9 or with the record removed.

`host=` instead of `selector=` selects the client-side form: a VirtualService
fault on that host (`chaosext.actions.virtualservice`), recorded the same way.
"""

import logging
import re
from typing import Any, TypedDict

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, clusters, created, undo
from chaosext.actions import virtualservice
from chaosext.mesh import httpfault

__all__ = ["clear_http_fault", "inject_http_fault"]

logger = logging.getLogger("chaostoolkit")

NAME_PREFIX = "meshdrill-fault-"


class HttpFaultResult(TypedDict):
    context: str
    namespace: str
    envoyfilter: str
    workload: dict[str, str]
    fault: str
    pods: int
    changed: bool


def inject_http_fault(
    selector: str = "",
    host: str = "",
    namespace: str = "default",
    context: str = "",
    status: int = 503,
    percentage: float = 100.0,
    delay: float = 0.0,
    delay_percentage: float = 100.0,
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> HttpFaultResult | virtualservice.ClientFaultResult | annotations.Plan:
    """Put Envoy's HTTP fault filter on `selector`'s pods, or on callers of `host`.

    `selector`: the workload's labels (`app=hello-world`, equality terms only;
    they become the EnvoyFilter's `workloadSelector`). The sidecars answer HTTP
    `status` to `percentage` % of requests (`status` 0: no abort), and hold
    `delay_percentage` % of requests `delay` seconds first. `name`: the
    EnvoyFilter's (default `meshdrill-fault-<label values>`).
    `host` instead (a Service host, short names completed in `namespace`): the
    client-side form, an Istio VirtualService in `namespace` with that fault on
    the mesh's requests to `host` (the callers' sidecars and waypoints of
    `context` answer or delay them; no upstream sees an aborted request);
    `name` default `meshdrill-client-fault-<host>`. Give exactly one of the two.
    Idempotent: a second call in the same run brings the object to these values.
    Fails (ActivityFailed) on bad values, no pod matching, an object of that
    name that another drill holds or that meshdrill did not create, another
    VirtualService already routing `host` (VS form), or an unreachable cluster.
    """
    try:
        fault = fault_from(status, percentage, delay, delay_percentage)
        if form(selector, host) == "host":
            return virtualservice.inject(
                host, namespace, context, fault, name, configuration, secrets
            )
        labels = workload_labels(selector)
    except (clusters.ClusterError, annotations.Held, ValueError) as exc:
        raise ActivityFailed(f"inject_http_fault: {exc}") from exc
    name = name or default_name(labels)
    run_id = annotations.run_id_of(configuration)
    what = f"envoyfilter {namespace}/{name}"
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            pods = clusters.list_pods(cluster, namespace, selector)
            if not pods:
                raise clusters.NotFound(
                    f"no pod '{selector}' in namespace {namespace}"
                    f" ({cluster.describe()})"
                )
            if annotations.is_dry_run(configuration):
                return annotations.plan(
                    cluster.context,
                    cluster.server,
                    [f"{what}: {fault.describe()} on {len(pods)} pods' sidecars"],
                )
            wanted = httpfault.envoy_filter(
                name,
                namespace,
                labels,
                fault,
                *created.stamp(run_id, "inject_http_fault"),
            )
            changed = created.ensure(cluster, created.ENVOY_FILTER, wanted, run_id)
            logger.info(
                "%s in '%s': %s on %s", what, cluster.context, fault.describe(), labels
            )
            return HttpFaultResult(
                context=cluster.context,
                namespace=namespace,
                envoyfilter=name,
                workload=labels,
                fault=fault.describe(),
                pods=len(pods),
                changed=changed,
            )
    except (clusters.ClusterError, annotations.Held, ValueError) as exc:
        raise ActivityFailed(f"inject_http_fault: {exc}") from exc


def clear_http_fault(
    selector: str = "",
    host: str = "",
    namespace: str = "default",
    context: str = "",
    name: str = "",
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> HttpFaultResult | virtualservice.ClientFaultResult | annotations.Plan:
    """Delete the EnvoyFilter (`selector`) or VirtualService (`host`) fault
    `inject_http_fault` created in this run.

    Idempotent: no such object is not an error (`changed` false); one another run
    created is left alone (that run, or `meshdrill recover`, deletes it).
    Fails (ActivityFailed) on a bad selector or host, or an unreachable cluster.
    """
    try:
        if form(selector, host) == "host":
            return virtualservice.clear(
                host, namespace, context, name, configuration, secrets
            )
        labels = workload_labels(selector)
    except (clusters.ClusterError, ValueError) as exc:
        raise ActivityFailed(f"clear_http_fault: {exc}") from exc
    name = name or default_name(labels)
    run_id = annotations.run_id_of(configuration)
    what = f"envoyfilter {namespace}/{name}"
    try:
        with clusters.connect(context, configuration, secrets) as cluster:
            obj = created.read(cluster, created.ENVOY_FILTER, namespace, name)
            record = created.record_of(obj) if obj is not None else None
            mine = record is not None and record.run == run_id
            if annotations.is_dry_run(configuration):
                changes = [f"{what}: deleted"] if mine else []
                return annotations.plan(cluster.context, cluster.server, changes)
            if mine and record is not None:
                change = undo.Change(
                    cluster.context, created.ENVOY_FILTER, namespace, name, record
                )
                undo.undo(cluster, change)
                logger.info("deleted %s in '%s'", what, cluster.context)
            return HttpFaultResult(
                context=cluster.context,
                namespace=namespace,
                envoyfilter=name,
                workload=labels,
                fault="no fault",
                pods=0,
                changed=mine,
            )
    except (clusters.ClusterError, ValueError) as exc:
        raise ActivityFailed(f"clear_http_fault: {exc}") from exc


def form(selector: Any, host: Any) -> str:
    """ "selector" (EnvoyFilter) or "host" (VirtualService); exactly one given."""
    if bool(selector) == bool(host):
        raise ValueError(
            "give exactly one of `selector` (the workload's own sidecars answer:"
            " an EnvoyFilter) or `host` (the callers' proxies answer: a"
            f" VirtualService); got selector={selector!r}, host={host!r}"
        )
    return "host" if host else "selector"


def workload_labels(selector: str) -> dict[str, str]:
    """`app=x,version=v1` as labels; anything but equality terms is refused."""
    labels: dict[str, str] = {}
    for term in (t.strip() for t in selector.split(",")):
        key, sep, value = term.replace("==", "=").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or "!" in key or "=" in value:
            raise ValueError(
                f"selector '{selector}': a workloadSelector takes label=value"
                f" terms only (not '{term}')"
            )
        labels[key] = value
    return labels


def default_name(labels: dict[str, str]) -> str:
    """`meshdrill-fault-<label values>`, as a valid object name."""
    tail = re.sub(r"[^a-z0-9-]+", "-", "-".join(labels.values()).lower()).strip("-")
    return (NAME_PREFIX + tail)[:63].rstrip("-")


def fault_from(
    status: Any, percentage: Any, delay: Any, delay_percentage: Any
) -> httpfault.HttpFault:
    values = {
        "status": status,
        "percentage": percentage,
        "delay": delay,
        "delay_percentage": delay_percentage,
    }
    try:
        code = int(status)
        shares = float(percentage), float(delay_percentage)
        seconds = float(delay)
    except (TypeError, ValueError):
        raise ValueError(f"not a number among {values}") from None
    if code and not 200 <= code <= 599:
        raise ValueError(f"status {code}: an HTTP status is 200-599 (0: no abort)")
    if any(not 0 < share <= 100 for share in shares):
        raise ValueError(f"percentage and delay_percentage are in (0, 100]: {values}")
    if seconds < 0:
        raise ValueError(f"delay {seconds}: seconds, not negative")
    if not code and not seconds:
        raise ValueError("nothing to inject: status 0 and no delay")
    return httpfault.HttpFault(
        status=code or None,
        abort_percent=shares[0],
        delay=seconds,
        delay_percent=shares[1],
    )
