"""The topology file's schema (pydantic, via `chaosext.userfile`) and its checks.

One model per section of the file, named for it (`ClusterSpec` is an item of
`clusters:`); `TopologySpec.cross_check` finds what spans sections (a gateway in
a zone with no node, a duplicate name); `build(spec, source)` makes the frozen
`Topology` of `chaosext.lab.topology` (use `topology.load` or `topology.parse`,
not this module, from outside).
"""

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BeforeValidator, Field

from chaosext import mesh
from chaosext.lab import kinds
from chaosext.lab.topology import (
    DEFAULT_IMAGE,
    Client,
    Cluster,
    Gateway,
    Namespace,
    Node,
    Resources,
    ServiceSpec,
    Timing,
    Topology,
    Waypoint,
    Workload,
)
from chaosext.mesh import names
from chaosext.userfile import Loc, Strict, fail, kind

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def _matching(pattern: re.Pattern[str]) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise fail(
                f"'{value}' is not a valid name (lower-case letters, digits and '-')"
            )
        return value

    return AfterValidator(check)


Text = Annotated[str, Field(min_length=1)]
Name = Annotated[str, Field(min_length=1), _matching(NAME_RE)]
Subdomain = Annotated[str, Field(min_length=1), _matching(SUBDOMAIN_RE)]
Count = Annotated[int, Field(ge=0)]
Port = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(ge=0)]
StringMap = dict[str, str]


def _parse_manifest(value: Any) -> list[dict[str, Any]]:
    """A `manifest: |` block -> its objects, each served by the lab and valid."""
    if not isinstance(value, str) or not value:
        raise fail(f"expected a non-empty string, got {kind(value)}")
    try:
        documents = [d for d in yaml.safe_load_all(value) if d is not None]
    except yaml.YAMLError as exc:
        raise fail(f"not valid YAML: {exc}") from None
    problems = [p for n, d in enumerate(documents, 1) for p in _manifest_object(n, d)]
    if problems:
        raise fail("; ".join(problems))
    return documents


def _manifest_object(number: int, obj: Any) -> Iterator[str]:
    where = f"(document {number} of the manifest)"
    if not isinstance(obj, dict):
        yield f"each document must be a mapping {where}"
        return
    api_version, kind_name = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind_name, str):
        yield f"a document lacks apiVersion or kind {where}"
        return
    found = kinds.by_kind(api_version, kind_name)
    if found is None:
        served = sorted({f"{k.api_version()} {k.kind}" for k in kinds.KINDS})
        yield (
            f"{api_version} {kind_name} is not served by the lab {where}; "
            f"served: {', '.join(served)}"
        )
        return
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        yield f"{kind_name} lacks metadata.name {where}"
        return
    if found is kinds.DESTINATION_RULE:
        errors = mesh.validate_destination_rule(obj.get("spec") or {}, warnings=False)
        if errors:
            name = metadata["name"]
            yield f"DestinationRule {name} {where} is invalid: " + "; ".join(errors)


class TimingSpec(Strict):
    ready_after: Seconds = Timing.ready_after
    propagation: Seconds = Timing.propagation
    terminate_after: Seconds = Timing.terminate_after


class NodeSpec(Strict):
    name: Subdomain
    zone: Text
    subzone: str | None = None
    labels: StringMap = Field(default_factory=dict)


class ClusterSpec(Strict):
    name: Name
    region: Text
    nodes: Annotated[list[NodeSpec], Field(min_length=1)]
    network: Text | None = None
    eastwest: Text | None = None  # the zone of its istio-eastwestgateway, if any


class NamespaceSpec(Strict):
    name: Name
    labels: StringMap = Field(default_factory=dict)
    annotations: StringMap = Field(default_factory=dict)


def _namespace_by_name(value: Any) -> Any:
    """`- istio-system` is short for `- {name: istio-system}`."""
    return {"name": value} if isinstance(value, str) else value


NamespaceItem = Annotated[NamespaceSpec, BeforeValidator(_namespace_by_name)]


class ServiceSpecSpec(Strict):
    port: Port = 80
    targetPort: Port = 8080
    labels: StringMap = Field(default_factory=dict)
    annotations: StringMap = Field(default_factory=dict)
    hosts: list[Subdomain] = Field(default_factory=list)
    trafficDistribution: Text | None = None


class WorkloadSpec(Strict):
    name: Name
    replicas: dict[str, Count]  # cluster -> replicas
    namespace: Name = "default"
    labels: StringMap = Field(default_factory=dict)
    service: ServiceSpecSpec | None = Field(default_factory=ServiceSpecSpec)
    image: Text = DEFAULT_IMAGE
    port: Port = 8080


class GatewaySpec(Strict):
    name: Name
    cluster: Text
    zone: Text
    route: Text
    namespace: Name = names.ROOT_NAMESPACE
    labels: StringMap = Field(default_factory=dict)


class ClientSpec(Strict):
    name: Name
    cluster: Text
    zone: Text
    namespace: Name = "default"
    proxy: Literal["sidecar", "ztunnel", "waypoint"] = "sidecar"
    labels: StringMap = Field(default_factory=dict)


class WaypointSpec(Strict):
    name: Name
    namespace: Name
    cluster: Text
    zone: Text
    labels: StringMap = Field(default_factory=dict)


class ResourcesSpec(Strict):
    manifest: Annotated[list[dict[str, Any]], BeforeValidator(_parse_manifest)]
    clusters: list[Text] | None = None  # None: every cluster


class AccessRuleSpec(Strict):
    """One RBAC rule of the kubeconfig's user (`access:`; absent: cluster admin)."""

    verbs: list[str]
    apiGroups: list[str]
    resources: list[str]
    resourceNames: list[str] | None = None


class MeshSpec(Strict):
    localityLbSetting: dict[str, Any] | None = None
    accessLogFile: str | None = None  # meshConfig: "" or unset means off


class TopologySpec(Strict):
    clusters: Annotated[list[ClusterSpec], Field(min_length=1)]
    name: Name | None = None  # None: the file's name
    description: str = ""
    timing: TimingSpec = TimingSpec()
    mesh: MeshSpec = MeshSpec()
    namespaces: list[NamespaceItem] = Field(default_factory=list)
    workloads: list[WorkloadSpec] = Field(default_factory=list)
    gateways: list[GatewaySpec] = Field(default_factory=list)
    clients: list[ClientSpec] = Field(default_factory=list)
    resources: list[ResourcesSpec] = Field(default_factory=list)
    waypoints: list[WaypointSpec] = Field(default_factory=list)
    seed: Count | None = None
    access: list[AccessRuleSpec] | None = None

    def cross_check(self) -> Iterator[tuple[Loc, str]]:
        """References between sections, and names that must be unique."""
        clusters = {c.name: c for c in self.clusters}
        yield from _unique(("clusters",), [c.name for c in self.clusters], "cluster")
        for i, cluster in enumerate(self.clusters):
            names = [n.name for n in cluster.nodes]
            yield from _unique(("clusters", i, "nodes"), names, "node")
            zones = list(dict.fromkeys(n.zone for n in cluster.nodes))
            if cluster.eastwest is not None and cluster.eastwest not in zones:
                yield (
                    ("clusters", i, "eastwest"),
                    f"'{cluster.eastwest}' is not a zone of this cluster ({zones})",
                )
        names = [f"{w.namespace}/{w.name}" for w in self.workloads]
        yield from _unique(("workloads",), names, "workload")
        for i, w in enumerate(self.workloads):
            for name in w.replicas:
                yield from _known_cluster(clusters, ("workloads", i, "replicas", name))
        hosts = {h for w in self.workloads for h in _workload(w).hosts}
        for i, g in enumerate(self.gateways):
            yield from _placed(clusters, ("gateways", i), g.cluster, g.zone)
            if g.route not in hosts:
                yield (
                    ("gateways", i, "route"),
                    f"'{g.route}' is no workload's host "
                    f"(hosts: {', '.join(sorted(hosts))})",
                )
        for i, c in enumerate(self.clients):
            yield from _placed(clusters, ("clients", i), c.cluster, c.zone)
        names = [f"{w.cluster}/{w.namespace}/{w.name}" for w in self.waypoints]
        yield from _unique(("waypoints",), names, "waypoint")
        for i, wp in enumerate(self.waypoints):
            yield from _placed(clusters, ("waypoints", i), wp.cluster, wp.zone)
        for i, r in enumerate(self.resources):
            for j, name in enumerate(r.clusters or []):
                path = ("resources", i, "clusters", j)
                yield from _known_cluster(clusters, path, name)


def _unique(path: Loc, names: list[str], what: str) -> Iterator[tuple[Loc, str]]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield (*path, i), f"duplicate {what} name '{name}'"
        seen.add(name)


def _known_cluster(
    clusters: dict[str, ClusterSpec], path: Loc, name: str | None = None
) -> Iterator[tuple[Loc, str]]:
    """`name` (by default the last part of `path`) must be a declared cluster."""
    name = str(path[-1]) if name is None else name
    if name not in clusters:
        known = ", ".join(clusters)
        yield path, f"unknown cluster {name!r} (clusters: {known})"


def _placed(
    clusters: dict[str, ClusterSpec], path: Loc, cluster: str, zone: str
) -> Iterator[tuple[Loc, str]]:
    """A declared cluster, and a zone in which it has a node."""
    if cluster not in clusters:
        yield from _known_cluster(clusters, (*path, "cluster"), cluster)
        return
    zones = list(dict.fromkeys(n.zone for n in clusters[cluster].nodes))
    if zone not in zones:
        yield (
            (*path, "zone"),
            f"zone {zone!r} has no node in cluster {cluster}"
            f" (zones: {', '.join(zones)})",
        )


def build(spec: TopologySpec, name: str, source: str) -> Topology:
    """The frozen Topology of a checked spec (`name` for a spec without one)."""
    workloads = tuple(_workload(w) for w in spec.workloads)
    gateways = tuple(_gateway(g) for g in spec.gateways)
    clients = tuple(_client(c) for c in spec.clients)
    waypoints = tuple(_waypoint(w) for w in spec.waypoints)
    cluster_names = tuple(c.name for c in spec.clusters)
    resources = tuple(
        Resources(tuple(r.clusters or cluster_names), tuple(r.manifest))
        for r in spec.resources
    )
    return Topology(
        name=spec.name or name,
        source=source,
        description=spec.description,
        timing=Timing(**spec.timing.model_dump()),
        mesh=spec.mesh.model_dump(exclude_none=True),
        clusters=tuple(_cluster(c) for c in spec.clusters),
        namespaces=_namespaces(
            spec.namespaces,
            (*workloads, *gateways, *clients, *waypoints),
            resources,
            eastwest=any(c.eastwest for c in spec.clusters),
        ),
        workloads=workloads,
        gateways=gateways,
        clients=clients,
        resources=resources,
        waypoints=waypoints,
        seed=spec.seed,
        access=None if spec.access is None else tuple(_rule(r) for r in spec.access),
    )


def _rule(rule: AccessRuleSpec) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in rule.model_dump(exclude_none=True).items()}


def _cluster(c: ClusterSpec) -> Cluster:
    nodes = tuple(
        Node(n.name, n.zone, n.subzone or "", dict(n.labels)) for n in c.nodes
    )
    network = c.network or f"{c.name}-network"
    return Cluster(c.name, network, c.region, nodes, eastwest=c.eastwest)


def _namespaces(
    declared: list[NamespaceSpec],
    owners: tuple[Workload | Gateway | Client | Waypoint, ...],
    resources: tuple[Resources, ...],
    eastwest: bool,
) -> tuple[Namespace, ...]:
    out = {
        n.name: Namespace(n.name, dict(n.labels), dict(n.annotations)) for n in declared
    }
    used = ["default", "kube-system", *(x.namespace for x in owners)]
    if eastwest:
        used.append(names.ROOT_NAMESPACE)  # where east-west gateways run
    used += [
        obj["metadata"].get("namespace") or "default"
        for r in resources
        for obj in r.objects
        if obj["kind"] != "Namespace"
    ]
    for name in used:
        out.setdefault(name, Namespace(name))
    return tuple(out.values())


def _workload(w: WorkloadSpec) -> Workload:
    s = w.service
    service = (
        None
        if s is None
        else ServiceSpec(
            port=s.port,
            target_port=s.targetPort,
            labels=dict(s.labels),
            annotations=dict(s.annotations),
            hosts=tuple(s.hosts),
            traffic_distribution=s.trafficDistribution,
        )
    )
    return Workload(
        name=w.name,
        namespace=w.namespace,
        labels=dict(w.labels) or {"app": w.name},
        replicas=dict(w.replicas),
        service=service,
        image=w.image,
        port=w.port,
    )


def _gateway(g: GatewaySpec) -> Gateway:
    labels = {"app": g.name, "istio": g.name.removeprefix("istio-"), **g.labels}
    return Gateway(g.name, g.namespace, g.cluster, g.zone, g.route, labels)


def _client(c: ClientSpec) -> Client:
    labels = dict(c.labels) or {"app": c.name}
    return Client(c.name, c.namespace, c.cluster, c.zone, c.proxy, labels)


def _waypoint(w: WaypointSpec) -> Waypoint:
    labels = {names.GATEWAY_NAME: w.name, **w.labels}
    return Waypoint(w.name, w.namespace, w.cluster, w.zone, labels)
