"""Least-privilege RBAC for meshdrill's drills: exactly what they call, nothing more.

The drills act on the TARGET clusters through the contexts of their kubeconfig, so
these objects are applied in each target cluster (and in the management cluster
only if it is a target too). Cluster-scoped resources (nodes) need a ClusterRole;
the namespaced ones go in a Role per workload namespace when those are named, else
in the ClusterRole for every namespace.
"""

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CLUSTER_RULES",
    "NAMESPACED_RULES",
    "ROOT_NAMESPACE",
    "ROOT_RULES",
    "rbac_objects",
]

Rule = dict[str, list[str]]

# Each rule names the code that needs it: exactly what chaosext.actions, probes
# and chaosext.undo (restore and recover) call, nothing more.
CLUSTER_RULES: tuple[Rule, ...] = (
    # locality (node zone labels), zone drills: list a zone's nodes, cordon and
    # uncordon them (spec.unschedulable) with their restore record
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "patch"]},
    # preflight (probes.preflight): the workload namespace's waypoint and ambient
    # labels; the DestinationRules istiod looks up, in every namespace. The
    # conformance drill (`expected: "predicted"`, chaosext.live.reader) reads the
    # mesh as istiod does: every namespace and Service
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["list"]},
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["destinationrules"],
        "verbs": ["list"],
    },
    # preflight's RBAC check asks the API server what this account may do
    {
        "apiGroups": ["authorization.k8s.io"],
        "resources": ["selfsubjectaccessreviews"],
        "verbs": ["create"],
    },
    # client-side faults (inject_http_fault host=) refuse when another
    # VirtualService routes the host, in any namespace; the restore control and
    # recover list meshdrill's own by label
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["virtualservices"],
        "verbs": ["list"],
    },
)

ROOT_NAMESPACE = "istio-system"
ROOT_RULES: tuple[Rule, ...] = (
    # preflight, in istio-system: the global ServiceEntry, the east-west gateway
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["serviceentries"],
        "verbs": ["list"],
    },
    # ... and control_plane_outage: istiod scaled with its restore record (the
    # restore control and recover list deployments to find it); deployment_stopped
    # and deployment_ready read istiod and count its pods; gateway_outage /
    # restore_gateway scale the east-west gateway with its restore record; the
    # restore control lists what a drill may have changed in every namespace it
    # names (eastwest_namespace: istio-system)
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "patch"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["envoyfilters"],
        "verbs": ["list"],
    },
)

NAMESPACED_RULES: tuple[Rule, ...] = (
    # scale drills: read the workload, patch replicas with the restore record;
    # the restore control and recover list deployments to find records
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "patch"],
    },
    # locality of answering pods, exec targets (deploy/NAME), same-zone pod
    # deletion (zone_failover); (the lab-only annotation faults would need patch)
    {
        "apiGroups": [""],
        "resources": ["pods"],
        "verbs": ["get", "list", "delete"],
    },
    # sidecar faults (outlier): create the EnvoyFilter with its restore record,
    # read and delete it; the restore control and recover list them by label
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["envoyfilters"],
        "verbs": ["get", "list", "create", "delete"],
    },
    # client-side faults: create the VirtualService with its restore record,
    # read and delete it
    {
        "apiGroups": ["networking.istio.io"],
        "resources": ["virtualservices"],
        "verbs": ["get", "create", "delete"],
    },
    # zone_outage evicts the workload's pods from the cordoned zone
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    # sampling from inside a client pod; kubectl and the websocket client open
    # exec with a GET upgrade request, hence get as well as create
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    # the ingress gateway's LoadBalancer address
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get"]},
)


def _meta(name: str, labels: dict[str, str], namespace: str | None = None) -> Any:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    return meta


def rbac_objects(
    name: str,
    namespace: str,
    labels: dict[str, str],
    target_namespaces: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """ServiceAccount `namespace/name` and the roles and bindings it needs.

    With `target_namespaces`, the namespaced rules are granted only there (one
    Role and RoleBinding each); without, cluster-wide through the ClusterRole.
    """
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    cluster_rules = list(CLUSTER_RULES)
    if not target_namespaces:
        cluster_rules += NAMESPACED_RULES + ROOT_RULES
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(name, labels, namespace),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(name, labels),
            "rules": [dict(rule) for rule in cluster_rules],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(name, labels),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": subject,
        },
    ]
    roles = dict.fromkeys(target_namespaces, NAMESPACED_RULES)
    if roles:
        roles[ROOT_NAMESPACE] = roles.get(ROOT_NAMESPACE, ()) + ROOT_RULES
    for target, rules in roles.items():
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _meta(name, labels, target),
                "rules": [dict(rule) for rule in rules],
            }
        )
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _meta(name, labels, target),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": name,
                },
                "subjects": subject,
            }
        )
    return objects
