"""Read every context, then run every check: the findings of `meshdrill mesh check`.

The contexts are read in parallel (one thread each); the checks then run on what
was read, with no further I/O.
"""

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chaosext import clusters
from chaosext.mesh import kube, lookup, names
from chaosext.preflight import access, config, placement
from chaosext.preflight.findings import FAIL, Finding
from chaosext.preflight.needs import Target, tier_needs
from chaosext.preflight.reading import ClusterView, read_cluster, waypoint_name

__all__ = ["Chooser", "check", "check_views", "chooser", "contexts_of"]

Obj = Mapping[str, Any]


def contexts_of(
    configuration: Mapping[str, Any] | None, contexts: Sequence[str] = ()
) -> list[str]:
    """The contexts to check: those given, else every context of the kubeconfig."""
    if contexts:
        return list(dict.fromkeys(contexts))
    return clusters.contexts_in(clusters.kubeconfig_path(configuration))


def _read(
    context: str,
    target: Target,
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
    check_access: bool,
) -> ClusterView:
    with clusters.connect(context, configuration, secrets) as cluster:
        return read_cluster(cluster, target, check_access=check_access)


def check(
    contexts: Sequence[str],
    target: Target,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    *,
    check_access: bool = True,
) -> list[Finding]:
    """Read `contexts` (in parallel) and check them for `target`.

    Raises ClusterError when a context cannot be read (the message names it).
    """
    tier_needs(target.tier)  # an unknown tier fails before any call
    if target.client is not None and target.client.context not in contexts:
        raise clusters.ClusterError(
            f"the client's context '{target.client.context}' is not among the"
            f" contexts checked ({', '.join(contexts)})"
        )
    with ThreadPoolExecutor(max_workers=max(1, len(contexts))) as pool:
        futures = [
            pool.submit(_read, c, target, configuration, secrets, check_access)
            for c in contexts
        ]
        views = [f.result() for f in futures]
    return check_views(views, target)


@dataclass(frozen=True)
class Chooser:
    """The proxy that chooses the endpoint for the client: whose rules apply.

    `kind` is one of mesh.kube's data planes (gateway, sidecar, waypoint, ztunnel,
    none); `labels` are the choosing pod's (a rule's workloadSelector may pick it).
    """

    kind: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def describe(self) -> str:
        if self.kind == kube.ZTUNNEL:
            return "the client's ztunnel"
        if self.kind == kube.NO_MESH:
            return f"{self.name} (not in the mesh)"
        if self.kind == kube.WAYPOINT:
            return f"waypoint {self.namespace}/{self.name}"
        return f"{self.name} ({self.kind}) in namespace {self.namespace}"


def chooser(view: ClusterView, target: Target) -> Chooser:
    """Who applies the DestinationRule for the client in `view`'s cluster, read as
    istiod reads the client pod (`mesh.kube.dataplane`).

    A gateway's, waypoint's or sidecar client's own Envoy chooses, in the client's
    namespace. An ambient client hands its request to the Service's waypoint
    (`istio.io/use-waypoint` on the Service or its namespace), else its ztunnel
    chooses (and ignores DestinationRules). Without a client: the waypoint if the
    Service uses one, else a sidecar in the Service's namespace.
    """
    assert view.service is not None
    waypoint = waypoint_name(view.service, view.namespace)
    if target.client is None or view.client is None:
        if waypoint:
            return Chooser(kube.WAYPOINT, target.namespace, waypoint)
        return Chooser(kube.SIDECAR, target.namespace, "a sidecar")
    mode = kube.dataplane(view.client, view.client_namespace)
    if mode == kube.ZTUNNEL:
        if waypoint:
            return Chooser(kube.WAYPOINT, target.namespace, waypoint)
        return Chooser(kube.ZTUNNEL, target.client.namespace, "ztunnel")
    labels = dict(kube.labels(view.client))
    return Chooser(mode, target.client.namespace, target.client.describe(), labels)


def _host(service: Obj) -> str:
    if config.is_global(service):
        return config.global_host(service)
    meta = service["metadata"]
    return f"{meta['name']}.{meta['namespace']}.{names.CLUSTER_DOMAIN}"


def _rule_findings(view: ClusterView, target: Target) -> list[Finding]:
    assert view.service is not None
    who = chooser(view, target)
    host = _host(view.service)
    needs = target.needs
    if who.kind in (kube.ZTUNNEL, kube.NO_MESH):
        if not needs.destination_rule:
            return []
        why = (
            "the client's ztunnel chooses and ignores DestinationRules (no waypoint)"
            if who.kind == kube.ZTUNNEL
            else f"{who.describe()}: no mesh proxy applies DestinationRules for it"
        )
        return [
            Finding(
                "destination-rule",
                view.context,
                FAIL,
                f"host {host}",
                f"{why}: the tier is decided by one",
            )
        ]
    rules = [lookup.Rule.from_object(o) for o in view.destination_rules or []]
    found = lookup.destination_rule(
        rules,
        host,
        proxy_namespace=who.namespace,
        service_namespace=target.namespace,
        proxy_labels=who.labels,
    )
    spec = dict(found.spec) if found else None
    applied = list(found.rules) if found else []
    out = [
        config.destination_rule(
            view.context, spec, applied, host, who.describe(), needs.destination_rule
        )
    ]
    outlier = config.outlier_detection(
        view.context,
        spec,
        applied,
        host,
        kube.traffic_distribution(view.service, view.namespace),
        needs,
    )
    return out + ([outlier] if outlier else [])


def _placement(views: Sequence[ClusterView], target: Target) -> Finding:
    pods: list[placement.Place] = []
    client: placement.Place | None = None
    for view in views:
        pods += placement.places(view.context, view.pods, view.nodes)
        if view.client is not None:
            (client,) = placement.places(view.context, [view.client], view.nodes)
    workload = f"service {target.namespace}/{target.service}"
    return placement.workload_pods(workload, pods, target.needs.spread, client)


def check_views(views: Sequence[ClusterView], target: Target) -> list[Finding]:
    """Every check over what was read: pure."""
    out: list[Finding] = []
    for view in views:
        out += placement.node_locality(view.context, view.nodes)
        out.append(placement.eastwest_gateway(view.context, view.eastwest))
    with_service = [v for v in views if v.service is not None]
    if target.service and not with_service:
        out.append(
            Finding(
                "service",
                "",
                FAIL,
                f"service {target.namespace}/{target.service}",
                f"not found in any context ({', '.join(v.context for v in views)})",
            )
        )
    if with_service:
        out.append(_placement(with_service, target))
    for view in with_service:
        assert view.service is not None
        entry = config.global_service_entry(
            view.context, view.service, view.service_entries
        )
        out += [entry] if entry else []
        for ref, deployment in view.waypoints.items():
            namespace, _, name = ref.partition("/")
            out.append(placement.waypoint(view.context, namespace, name, deployment))
    deciding = [v for v in with_service if target.client is None or v.client]
    for view in deciding:
        out += _rule_findings(view, target)
    out += [access.access_finding(v.context, v.rbac) for v in views if v.rbac_asked]
    return out
