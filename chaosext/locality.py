"""Where an answer came from: hostname -> pod -> node -> region/zone -> Locality.

Kubernetes sets a pod's hostname to its name, so a sampled hostname names a pod.
The pod's node carries `topology.kubernetes.io/region|zone` (and Istio's
`topology.istio.io/subzone`, `topology.istio.io/network`); the cluster is the
kubeconfig context the pod was listed from. The resolver lists pods and nodes
once per cluster and lists again only when an unknown hostname shows up (a
replacement pod), at most once per `refresh_after` seconds; pods it has seen
keep their locality after they are gone.
"""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from chaosext import clusters
from chaosext.mesh import names

__all__ = ["DIMENSIONS", "ZONE", "Locality", "LocalityResolver", "node_zones"]

REGION = names.REGION
ZONE = names.ZONE
SUBZONE = names.SUBZONE
NETWORK = names.NETWORK

DIMENSIONS = ("cluster", "network", "region", "zone", "subzone", "node", "pod")
"""What an answer can be grouped by."""


@dataclass(frozen=True)
class Locality:
    """Where one pod runs. `cluster` is the kubeconfig context it was found in."""

    cluster: str
    network: str
    region: str
    zone: str
    subzone: str
    node: str
    pod: str

    def get(self, dimension: str) -> str:
        if dimension not in DIMENSIONS:
            raise ValueError(
                f"cannot group answers by '{dimension}':"
                f" choose one of {', '.join(DIMENSIONS)}"
            )
        return str(getattr(self, dimension))

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class _Snapshot:
    pods: dict[str, Locality]
    taken_at: float


class LocalityResolver:
    """Resolve hostnames to Localities over several clusters, with a cache."""

    def __init__(
        self,
        contexts: Sequence[str],
        namespace: str,
        label_selector: str = "",
        *,
        configuration: dict[str, Any] | None = None,
        secrets: dict[str, Any] | None = None,
        refresh_after: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not contexts:
            raise ValueError("no contexts to resolve pods in")
        self.contexts = list(contexts)
        self.namespace = namespace
        self.label_selector = label_selector
        self._configuration = configuration
        self._secrets = secrets
        self._refresh_after = refresh_after
        self._clock = clock
        self._snapshot: _Snapshot | None = None

    def resolve(self, hostname: str) -> Locality | None:
        """The Locality of the pod with this hostname, or None if no pod has it."""
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self.refresh()
        found = _lookup(snapshot.pods, hostname)
        if found is None and self._clock() - snapshot.taken_at >= self._refresh_after:
            found = _lookup(self.refresh().pods, hostname)
        return found

    def resolve_all(self, hostnames: Iterable[str]) -> dict[str, Locality | None]:
        return {name: self.resolve(name) for name in set(hostnames)}

    def refresh(self) -> _Snapshot:
        # Pods seen before keep their locality: a pod deleted a moment ago (its
        # cluster scaled to zero) may still answer while it terminates.
        pods = dict(self._snapshot.pods) if self._snapshot else {}
        for context in self.contexts:
            with clusters.connect(context, self._configuration, self._secrets) as c:
                pods.update(_list_localities(c, self.namespace, self.label_selector))
        self._snapshot = _Snapshot(pods, self._clock())
        return self._snapshot


def node_zones(cluster: clusters.Cluster) -> dict[str, str]:
    """Node name -> its zone label ("" when unlabelled)."""
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node).items
    return {n.metadata.name: (n.metadata.labels or {}).get(ZONE, "") for n in nodes}


def _lookup(pods: dict[str, Locality], hostname: str) -> Locality | None:
    found = pods.get(hostname)
    if found is None and len(hostname) == 63:
        # Linux truncates hostnames to 63 characters; pod names can be longer.
        matches = [p for name, p in pods.items() if name.startswith(hostname)]
        found = matches[0] if len(matches) == 1 else None
    return found


def _list_localities(
    cluster: clusters.Cluster, namespace: str, label_selector: str
) -> dict[str, Locality]:
    nodes = clusters.call(cluster, "nodes", cluster.core.list_node)
    node_labels = {n.metadata.name: n.metadata.labels or {} for n in nodes.items}
    pods = clusters.list_items(
        cluster,
        f"pods in namespace {namespace}",
        cluster.core.list_namespaced_pod,
        namespace,
        label_selector=label_selector,
    )
    found: dict[str, Locality] = {}
    for pod in pods:
        node = pod.spec.node_name or ""
        labels = node_labels.get(node, {})
        pod_labels = pod.metadata.labels or {}
        found[pod.metadata.name] = Locality(
            cluster=cluster.context,
            network=pod_labels.get(NETWORK) or labels.get(NETWORK, ""),
            region=labels.get(REGION, ""),
            zone=labels.get(ZONE, ""),
            subzone=labels.get(SUBZONE, ""),
            node=node,
            pod=pod.metadata.name,
        )
    return found
