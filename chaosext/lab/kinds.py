"""The resource kinds the lab's API servers serve: names, groups, versions, verbs.

One table drives discovery, URL routing, Table output and topology validation.
"""

from dataclasses import dataclass

CRUD_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Kind:
    """One REST resource (e.g. `pods`) in one group, at one or more versions."""

    group: str  # "" for the core group
    versions: tuple[str, ...]  # preferred first
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    stored_as: tuple[str, str] | None = None
    """Another kind's bucket, when this is a second API for the same objects
    (events.k8s.io/v1 Events are core/v1 Events seen differently)."""
    crd: bool = False  # a custom resource (no strategic merge patch)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> tuple[str, str]:
        """Where the store keeps these objects: one bucket per (group, plural)."""
        return self.stored_as or (self.group, self.plural)

    def api_version(self, version: str | None = None) -> str:
        version = version or self.versions[0]
        return f"{self.group}/{version}" if self.group else version


ISTIO = "networking.istio.io"
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")

NAMESPACE = Kind("", ("v1",), "Namespace", "namespaces", False, ("ns",), ("status",))
NODE = Kind("", ("v1",), "Node", "nodes", False, ("no",), ("status",))
POD = Kind(
    "",
    ("v1",),
    "Pod",
    "pods",
    True,
    ("po",),
    ("status", "eviction", "exec", "log", "portforward"),
    ("all",),
)
SERVICE = Kind(
    "", ("v1",), "Service", "services", True, ("svc",), ("status",), ("all",)
)
EVENT = Kind("", ("v1",), "Event", "events", True, ("ev",))
EVENT_V1 = Kind(
    "events.k8s.io", ("v1",), "Event", "events", True, ("ev",), stored_as=("", "events")
)
ENDPOINTS = Kind("", ("v1",), "Endpoints", "endpoints", True, ("ep",))
ENDPOINT_SLICE = Kind(
    "discovery.k8s.io", ("v1",), "EndpointSlice", "endpointslices", True
)
REPLICASET = Kind(
    "apps",
    ("v1",),
    "ReplicaSet",
    "replicasets",
    True,
    ("rs",),
    ("scale", "status"),
    ("all",),
)
DEPLOYMENT = Kind(
    "apps",
    ("v1",),
    "Deployment",
    "deployments",
    True,
    ("deploy",),
    ("scale", "status"),
    ("all",),
)
DESTINATION_RULE = Kind(
    ISTIO, ISTIO_VERSIONS, "DestinationRule", "destinationrules", True, ("dr",),
    crd=True,
)  # fmt: skip
# Review kinds: only `create`, answered at once and never stored.
SELF_SUBJECT_ACCESS_REVIEW = Kind(
    "authorization.k8s.io",
    ("v1",),
    "SelfSubjectAccessReview",
    "selfsubjectaccessreviews",
    False,
    verbs=("create",),
)
SELF_SUBJECT_RULES_REVIEW = Kind(
    "authorization.k8s.io",
    ("v1",),
    "SelfSubjectRulesReview",
    "selfsubjectrulesreviews",
    False,
    verbs=("create",),
)
SELF_SUBJECT_REVIEW = Kind(
    "authentication.k8s.io",
    ("v1",),
    "SelfSubjectReview",
    "selfsubjectreviews",
    False,
    verbs=("create",),
)
REVIEWS = (SELF_SUBJECT_ACCESS_REVIEW, SELF_SUBJECT_RULES_REVIEW, SELF_SUBJECT_REVIEW)

KINDS: tuple[Kind, ...] = (
    NAMESPACE,
    NODE,
    POD,
    SERVICE,
    EVENT,
    ENDPOINTS,
    DEPLOYMENT,
    REPLICASET,
    EVENT_V1,
    ENDPOINT_SLICE,
    *REVIEWS,
    DESTINATION_RULE,
    Kind(ISTIO, ISTIO_VERSIONS, "VirtualService", "virtualservices", True, ("vs",),
         crd=True),
    Kind(ISTIO, ISTIO_VERSIONS, "Gateway", "gateways", True, ("gw",), crd=True),
    Kind(ISTIO, ISTIO_VERSIONS, "ServiceEntry", "serviceentries", True, ("se",),
         crd=True),
    Kind("gateway.networking.k8s.io", ("v1",), "Gateway", "gateways", True, ("gtw",),
         crd=True),
    Kind(ISTIO, ("v1alpha3",), "EnvoyFilter", "envoyfilters", True, crd=True),
    Kind("telemetry.istio.io", ("v1", "v1alpha1"), "Telemetry", "telemetries", True,
         ("telemetry",), crd=True),
)  # fmt: skip

# Groups that exist only for a subresource (Eviction, Scale) are not listed in
# /apis: a real server lists them because it serves their kinds too (PDBs, HPAs),
# and an empty group makes `kubectl api-resources` fail.
EXTRA_GROUP_VERSIONS: tuple[tuple[str, str], ...] = ()


def find(group: str, version: str, plural: str) -> Kind | None:
    """The kind served at /apis/<group>/<version>/<plural>, or None."""
    for kind in KINDS:
        if kind.group == group and kind.plural == plural and version in kind.versions:
            return kind
    return None


def by_kind(api_version: str, kind_name: str) -> Kind | None:
    """The kind for a manifest's `apiVersion` and `kind`, or None."""
    group, _, version = api_version.rpartition("/")
    for kind in KINDS:
        if kind.group == group and kind.kind == kind_name and version in kind.versions:
            return kind
    return None


def group_versions() -> list[tuple[str, tuple[str, ...]]]:
    """Every named group with its versions (preferred first), in a stable order."""
    seen: dict[str, list[str]] = {}
    for kind in KINDS:
        if kind.group:
            versions = seen.setdefault(kind.group, [])
            versions.extend(v for v in kind.versions if v not in versions)
    for group, version in EXTRA_GROUP_VERSIONS:
        seen.setdefault(group, []).append(version)
    return [(group, tuple(versions)) for group, versions in seen.items()]


def served(group: str, version: str) -> list[Kind]:
    """The kinds served at one group-version."""
    return [k for k in KINDS if k.group == group and version in k.versions]
