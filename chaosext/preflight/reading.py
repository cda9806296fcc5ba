"""Read what the checks need from one cluster, through `chaosext.clusters` only.

Everything comes back as the API's JSON (dicts with camelCase keys), so the checks
are pure functions over plain data. A kind the API does not serve (no Istio CRDs;
no SelfSubjectAccessReview on a lab that lacks it) reads as None.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s

from chaosext import clusters
from chaosext.mesh import kube
from chaosext.preflight import access
from chaosext.preflight.needs import ClientRef, Target
from chaosext.preflight.placement import EASTWEST

__all__ = ["ClusterView", "read_cluster", "waypoint_name"]

Obj = dict[str, Any]
ISTIO = ("networking.istio.io", "v1")  # group and version of DRs and SEs


@dataclass
class ClusterView:
    """One context's objects, as the checks need them."""

    context: str
    nodes: list[Obj]
    eastwest: Obj | None = None
    service: Obj | None = None  # None: the Service is not in this cluster
    namespace: Obj | None = None  # the Service's namespace
    pods: list[Obj] = field(default_factory=list)  # the pods the Service selects
    service_entries: list[Obj] | None = None  # istio-system's; None: not served
    destination_rules: list[Obj] | None = None  # every namespace's; None: not served
    waypoints: dict[str, Obj | None] = field(default_factory=dict)  # ns/name -> deploy
    client: Obj | None = None  # the client pod, in the client's context only
    client_namespace: Obj | None = None
    rbac_asked: bool = False
    rbac: list[access.Access] | None = None  # asked, and None: SSAR not served


def _json(cluster: clusters.Cluster, obj: Any) -> Any:
    return cluster.api_client.sanitize_for_serialization(obj)


def _optional(
    cluster: clusters.Cluster, what: str, fn: Any, *args: Any, **kw: Any
) -> Any:
    try:
        return _json(cluster, clusters.call(cluster, what, fn, *args, **kw))
    except clusters.NotFound:
        return None


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def waypoint_name(service: Obj, namespace: Obj | None) -> str:
    """The waypoint a Service uses ("" for none): istiod's reading (mesh.kube)."""
    return kube.waypoint_of(service, namespace) or ""


def _read_service(cluster: clusters.Cluster, target: Target, view: ClusterView) -> None:
    ns, name = target.namespace, target.service
    view.service = _optional(
        cluster, f"service {ns}/{name}", cluster.core.read_namespaced_service, name, ns
    )
    if view.service is None:
        return
    view.namespace = _optional(
        cluster, f"namespace {ns}", cluster.core.read_namespace, ns
    )
    selector = (view.service.get("spec") or {}).get("selector") or {}
    if selector:
        text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        view.pods = [_json(cluster, p) for p in clusters.list_pods(cluster, ns, text)]
    listed = _optional(
        cluster,
        "serviceentries in namespace istio-system",
        cluster.custom.list_namespaced_custom_object,
        *ISTIO,
        "istio-system",
        "serviceentries",
    )
    view.service_entries = None if listed is None else list(listed.get("items") or [])
    listed = _optional(
        cluster,
        "destinationrules in all namespaces",
        cluster.custom.list_cluster_custom_object,
        *ISTIO,
        "destinationrules",
    )
    view.destination_rules = None if listed is None else list(listed.get("items") or [])
    waypoint = waypoint_name(view.service, view.namespace)
    if waypoint:
        view.waypoints[f"{ns}/{waypoint}"] = _optional(
            cluster,
            f"deployment {ns}/{waypoint}",
            cluster.apps.read_namespaced_deployment,
            waypoint,
            ns,
        )


def _what_exists(cluster: clusters.Cluster, namespace: str) -> str:
    """Deployments and pods of `namespace`, for a message about a missing client."""
    deployments = clusters.call(
        cluster,
        f"deployments in namespace {namespace}",
        cluster.apps.list_namespaced_deployment,
        namespace,
    ).items
    pods = clusters.list_pods(cluster, namespace)
    shown = [f"deploy/{d.metadata.name}" for d in deployments]
    shown += [p.metadata.name for p in pods]
    return f"namespace {namespace} has: {', '.join(shown) or 'nothing'}"


def _read_client(cluster: clusters.Cluster, ref: ClientRef, view: ClusterView) -> None:
    kind, _, name = ref.ref.rpartition("/")
    if kind in ("svc", "service", "services"):
        what = f"service {ref.namespace}/{name}"
        svc = clusters.call(
            cluster, what, cluster.core.read_namespaced_service, name, ref.namespace
        )
        selector = ",".join(
            f"{k}={v}" for k, v in sorted((svc.spec.selector or {}).items())
        )
        pods = list(clusters.list_pods(cluster, ref.namespace, selector))
        running = [p for p in pods if p.status and p.status.phase == "Running"]
        if not running:
            raise clusters.NotFound(
                f"{what} selects no running pod in {cluster.describe()}"
            )
        pod = running[0]
    else:
        try:
            pod = clusters.resolve_pod(cluster, ref.namespace, ref.ref)
        except clusters.NotFound as exc:
            exists = _what_exists(cluster, ref.namespace)
            raise clusters.NotFound(f"{exc}; {exists}") from exc
    view.client = _json(cluster, pod)
    view.client_namespace = _optional(
        cluster,
        f"namespace {ref.namespace}",
        cluster.core.read_namespace,
        ref.namespace,
    )


def _ask(
    cluster: clusters.Cluster, questions: list[access.Access]
) -> list[access.Access] | None:
    api = k8s.AuthorizationV1Api(cluster.api_client)
    answers = []
    for question in questions:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": question.attributes()},
        }
        try:
            review = clusters.call(
                cluster,
                f"selfsubjectaccessreview ({question.describe()})",
                api.create_self_subject_access_review,
                body,
            )
        except clusters.NotFound:
            return None
        status = review.status
        answers.append(
            access.Access(
                question.verb,
                question.group,
                question.resource,
                question.namespace,
                bool(status and status.allowed),
                str((status and (status.reason or status.evaluation_error)) or ""),
            )
        )
    return answers


def read_cluster(
    cluster: clusters.Cluster, target: Target, *, check_access: bool = True
) -> ClusterView:
    """Everything the checks need from one cluster."""
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node).items
    view = ClusterView(cluster.context, [_json(cluster, n) for n in nodes])
    view.eastwest = _optional(
        cluster,
        f"deployment {'/'.join(EASTWEST)}",
        cluster.apps.read_namespaced_deployment,
        EASTWEST[1],
        EASTWEST[0],
    )
    if target.service:
        _read_service(cluster, target, view)
    if target.client is not None and target.client.context == cluster.context:
        _read_client(cluster, target.client, view)
    if check_access:
        namespaces = [target.namespace]
        if target.client is not None:
            namespaces.append(target.client.namespace)
        view.rbac_asked = True
        view.rbac = _ask(cluster, access.wanted(namespaces))
    return view
