"""Lab topologies: clusters, nodes and zones, workloads, gateways, Istio resources.

`load(name_or_path)` reads a shipped topology (`chaosext/lab/topologies/<name>.yaml`)
or any YAML file, validates it and returns a frozen `Topology`. Errors name the file,
the line and the field (`TopologyError`). The schema is documented in docs/lab.md
("Topology files") and in `topologies/guide-000.yaml`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaosext import userfile

__all__ = ["Topology", "TopologyError", "load", "resolve", "settle_limit", "shipped"]

SHIPPED_DIR = Path(__file__).parent / "topologies"
DEFAULT_IMAGE = "us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0"


class TopologyError(userfile.UserFileError):
    """A topology file is missing, unreadable or wrong: one line per problem."""

    @classmethod
    def of(cls, where: str, message: str) -> "TopologyError":
        return cls([userfile.Problem(where, 0, None, message)])


@dataclass(frozen=True)
class Timing:
    """Seconds: pod readiness delay, endpoint propagation (EDS push), graceful stop."""

    ready_after: float = 1.0
    propagation: float = 0.5
    terminate_after: float = 0.2


@dataclass(frozen=True)
class Node:
    name: str
    zone: str
    subzone: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cluster:
    name: str
    network: str
    region: str
    nodes: tuple[Node, ...]
    eastwest: str | None = None
    """The zone of the cluster's east-west gateway (istio-eastwestgateway), if any."""

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(node.zone for node in self.nodes))


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    port: int = 80
    target_port: int = 8080
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()
    traffic_distribution: str | None = None


@dataclass(frozen=True)
class Workload:
    name: str
    namespace: str
    labels: Mapping[str, str]
    replicas: Mapping[str, int]  # cluster -> replicas
    service: ServiceSpec | None
    image: str = DEFAULT_IMAGE
    port: int = 8080

    @property
    def hosts(self) -> tuple[str, ...]:
        own = f"{self.name}.{self.namespace}.svc.cluster.local"
        return (own, *self.service.hosts) if self.service else ()


@dataclass(frozen=True)
class Gateway:
    name: str
    namespace: str
    cluster: str
    zone: str
    route: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Client:
    """A client pod (`kubectl exec ... curl`) and the mesh proxy its traffic uses."""

    name: str
    namespace: str
    cluster: str
    zone: str
    proxy: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Waypoint:
    """A waypoint (Envoy) for a namespace in one cluster, on a node of `zone`; used
    by ztunnel clients when the namespace or Service has `istio.io/use-waypoint`."""

    name: str
    namespace: str
    cluster: str
    zone: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Resources:
    """Kubernetes/Istio objects applied verbatim to some clusters."""

    clusters: tuple[str, ...]
    objects: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Topology:
    name: str
    source: str  # the file it was read from
    description: str
    timing: Timing
    mesh: Mapping[str, Any]  # mesh config, e.g. {"localityLbSetting": {...}}
    clusters: tuple[Cluster, ...]
    namespaces: tuple[Namespace, ...]
    workloads: tuple[Workload, ...]
    gateways: tuple[Gateway, ...] = ()
    clients: tuple[Client, ...] = ()
    resources: tuple[Resources, ...] = ()
    waypoints: tuple[Waypoint, ...] = ()
    seed: int | None = None
    access: tuple[Mapping[str, tuple[str, ...]], ...] | None = None
    """RBAC rules of the kubeconfig's user; None: a cluster admin."""

    def cluster(self, name: str) -> Cluster:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)

    @property
    def mesh_locality_lb(self) -> dict[str, Any]:
        return dict(self.mesh.get("localityLbSetting") or {"enabled": True})


def shipped() -> list[str]:
    """Names of the topologies shipped with meshdrill."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    """A shipped topology name or a path -> the YAML file (TopologyError if none)."""
    candidate = Path(name_or_path).expanduser()
    looks_like_path = "/" in name_or_path or candidate.suffix in (".yaml", ".yml")
    if candidate.is_file():
        return candidate.resolve()
    if not looks_like_path and (SHIPPED_DIR / f"{name_or_path}.yaml").is_file():
        return SHIPPED_DIR / f"{name_or_path}.yaml"
    raise TopologyError.of(
        f"topology '{name_or_path}'",
        "no such file and no shipped topology of that name"
        f" (shipped: {', '.join(shipped())})",
    )


def canonical(name_or_path: str) -> str:
    """The shipped name as given, or the absolute path of a topology file."""
    path = resolve(name_or_path)
    return path.stem if path.parent == SHIPPED_DIR.resolve() else str(path)


SETTLE_BASE = 30.0
SETTLE_PER_POD = 0.01


def settle_limit(topology: Topology) -> float:
    """Seconds a lab may take to come up: 30, plus 10 ms per seeded pod."""
    pods = sum(sum(w.replicas.values()) for w in topology.workloads)
    return SETTLE_BASE + SETTLE_PER_POD * pods


def load(name_or_path: str | Path) -> Topology:
    """Read and validate a topology; TopologyError lists every problem found
    (`file:line: field: message`)."""
    path = resolve(str(name_or_path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError.of(str(path), f"cannot read: {exc.strerror}") from exc
    return parse(text, str(path))


def parse(text: str, source: str) -> Topology:
    """Validate the YAML text of a topology read from `source` (YAML 1.2)."""
    from chaosext.lab import topoparse  # it builds this module's types

    try:
        doc = userfile.parse(text, source)
        spec = userfile.validate(doc, topoparse.TopologySpec)
    except userfile.UserFileError as exc:
        raise TopologyError(exc.problems) from None
    name = spec.name or Path(source).stem
    if not topoparse.NAME_RE.match(name):
        message = f"'{name}' (the file's name) is not a valid name: give one"
        raise TopologyError([doc.problem(("name",), message)])
    return topoparse.build(spec, name, source)
