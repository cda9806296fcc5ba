"""Pure checks of where things run: node labels, east-west gateways, workload pods,
waypoints. Each takes objects as the Kubernetes API returns them (JSON dicts).

Guide 001 ("Multicluster zone and region failover", Gloo Mesh/Solo.io docs) step 1
checks the nodes' `topology.kubernetes.io/region|zone` and the east-west gateways'
`topology.istio.io/network`, region and zone labels (the mesh gives every remote
endpoint behind a gateway the gateway's locality); step 4 needs pods in two zones;
step 5 rolls the waypoint out.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaosext.mesh import kube
from chaosext.mesh.names import NETWORK, REGION, ZONE
from chaosext.preflight.findings import FAIL, PASS, SKIP, Finding

__all__ = [
    "EASTWEST",
    "Place",
    "eastwest_gateway",
    "is_ready",
    "node_locality",
    "places",
    "waypoint",
    "workload_pods",
]

Obj = Mapping[str, Any]
EASTWEST = ("istio-system", "istio-eastwestgateway")


def _labels(obj: Obj | None) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def node_locality(context: str, nodes: Sequence[Obj]) -> list[Finding]:
    """Every node carries a region and a zone label."""
    out = []
    for node in nodes:
        labels = _labels(node)
        missing = [key for key in (REGION, ZONE) if not labels.get(key)]
        if missing:
            out.append(
                Finding(
                    "node-locality",
                    context,
                    FAIL,
                    f"node {node['metadata']['name']}",
                    f"no {' and no '.join(missing)} label: the mesh cannot place"
                    " its endpoints, so locality routing treats them as anywhere",
                )
            )
    if not nodes:
        out.append(Finding("node-locality", context, FAIL, "nodes", "no node listed"))
    if not out:
        zones = sorted({_labels(n)[ZONE] for n in nodes})
        out.append(
            Finding(
                "node-locality",
                context,
                PASS,
                f"{len(nodes)} nodes",
                f"all labelled with region and zone (zones {', '.join(zones)})",
            )
        )
    return out


def eastwest_gateway(context: str, deployment: Obj | None) -> Finding:
    """The east-west gateway (where present) carries network, region and zone."""
    subject = f"deployment {'/'.join(EASTWEST)}"
    if deployment is None:
        return Finding("eastwest-gateway", context, SKIP, subject, "not present")
    template = ((deployment.get("spec") or {}).get("template") or {}).get("metadata")
    labels = {**(template or {}).get("labels", {}), **_labels(deployment)}
    missing = [key for key in (NETWORK, REGION, ZONE) if not labels.get(key)]
    if missing:
        return Finding(
            "eastwest-gateway",
            context,
            FAIL,
            subject,
            f"no {', '.join(missing)} label: remote endpoints behind it get no"
            " locality, so failover cannot prefer or avoid them",
        )
    values = ", ".join(
        f"{k.rsplit('/', 1)[1]} {labels[k]}" for k in (NETWORK, REGION, ZONE)
    )
    return Finding("eastwest-gateway", context, PASS, subject, values)


def is_ready(pod: Obj) -> bool:
    """Live (not terminating) and Ready, as istiod reads it (mesh.kube)."""
    return kube.is_live(pod) and kube.is_ready(pod)


@dataclass(frozen=True)
class Place:
    """Where one pod runs: its cluster (context), region and zone, and readiness."""

    context: str
    region: str
    zone: str
    pod: str = ""
    ready: bool = True


def places(context: str, pods: Iterable[Obj], nodes: Iterable[Obj]) -> list[Place]:
    """The place of each pod, from its node's labels."""
    node_labels = {n["metadata"]["name"]: _labels(n) for n in nodes}
    out = []
    for pod in pods:
        labels = node_labels.get((pod.get("spec") or {}).get("nodeName") or "", {})
        out.append(
            Place(
                context,
                labels.get(REGION, ""),
                labels.get(ZONE, ""),
                pod["metadata"]["name"],
                is_ready(pod),
            )
        )
    return out


def _count(ready: Sequence[Place], key: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for place in ready:
        value = getattr(place, key)
        counts[value] = counts.get(value, 0) + 1
    return counts


def _shown(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k or '(unlabelled)'} {n}" for k, n in sorted(counts.items()))


def workload_pods(
    workload: str, pods: Sequence[Place], spread: str, client: Place | None
) -> Finding:
    """Ready pods where the tier sends traffic (`spread`), relative to the client.

    zone: the client's zone and another zone of its region; region: the client's
    region and another; cluster: the client's cluster and another. Without a
    client, any two zones of one region, two regions, or two clusters.
    """
    ready = [p for p in pods if p.ready]
    subject = f"pods of {workload}"
    if not ready:
        return Finding("workload-pods", "", FAIL, subject, "no ready pod anywhere")
    if not spread:
        shown = _shown(_count(ready, "context"))
        return Finding("workload-pods", "", PASS, subject, f"ready: {shown}")
    if spread == "zone":
        region = client.region if client else ""
        if not region:
            by_region = _count(
                list({(p.region, p.zone): p for p in ready}.values()), "region"
            )
            region = max(by_region, key=lambda r: by_region[r])
        in_region = [p for p in ready if p.region == region]
        counts = _count(in_region, "zone")
        own = client.zone if client else ""
        what = f"zones of region {region or '(unlabelled)'}"
    else:
        key = "region" if spread == "region" else "context"
        counts = _count(ready, key)
        own = getattr(client, key) if client else ""
        what = "regions" if spread == "region" else "clusters"
    others = [k for k in counts if k != own]
    missing = []
    if own and own not in counts:
        missing.append(f"none in the client's {spread} {own}")
    if not others:
        missing.append(f"no other {spread} to fail over to")
    if missing:
        return Finding(
            "workload-pods",
            "",
            FAIL,
            subject,
            f"{'; '.join(missing)} (ready in {what}: {_shown(counts) or 'none'});"
            f" the {spread} tiers need ready pods in two {what}",
        )
    return Finding(
        "workload-pods", "", PASS, subject, f"ready in {what}: {_shown(counts)}"
    )


def waypoint(
    context: str, namespace: str, name: str, deployment: Obj | None
) -> Finding:
    """The waypoint a Service uses has a Deployment with a ready replica."""
    subject = f"waypoint {namespace}/{name}"
    if deployment is None:
        return Finding(
            "waypoint",
            context,
            FAIL,
            subject,
            f"istio.io/use-waypoint names it but deployment {namespace}/{name} does"
            " not exist: the waypoint is not rolled out",
        )
    status = deployment.get("status") or {}
    ready = int(status.get("readyReplicas") or 0)
    wanted = int((deployment.get("spec") or {}).get("replicas") or 0)
    if ready < 1:
        return Finding(
            "waypoint",
            context,
            FAIL,
            subject,
            f"{ready} of {wanted} replicas ready: traffic through it fails",
        )
    return Finding("waypoint", context, PASS, subject, f"{ready} of {wanted} ready")
