"""Live mesh reading and prediction (`meshdrill mesh explain`): speed and API calls.

1. Prediction after the read, at scale: a mesh of 2 clusters x `--pods` pods
   (default 2,000 each: zones, a global Service, guide 001's DestinationRule, a
   waypoint per cluster), held in memory as the reader holds it; the time of
   `live.explain.predict()` for one ambient client through its waypoint, now and
   with a zone down. Target: under 100 ms per prediction.
2. API calls per explain with N what-ifs: a running lab (guide-001-waypoint) is
   read once through its kubeconfig (`reader.read_mesh`), then N predictions (each
   zone, region and cluster down, in turn) run from memory; the API calls counted
   stay those of the read, whatever N. The read's wall time is printed too.

    .venv/bin/python benchmarks/live_mesh.py [--pods 2000] [--repeats 20]
"""

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import figures

from chaosext.lab import runtime
from chaosext.live import explain, reader
from chaosext.live.state import ClusterObjects, MeshState
from chaosext.mesh import lookup, names
from chaosext.mesh.whatif import Selector

NS = "httpbin"
HOST = f"in-ambient.{NS}.mesh.internal"
REGIONS = {"cluster1": "us-east-1", "cluster2": "us-west-2"}
GUIDE_001_DR = {
    "host": HOST,
    "trafficPolicy": {
        "loadBalancer": {
            "localityLbSetting": {
                "enabled": True,
                "failoverPriority": [names.ZONE, names.REGION],
            }
        },
        "outlierDetection": {"consecutive5xxErrors": 5, "maxEjectionPercent": 50},
    },
}


def _pod(name: str, node: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "app"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def synthetic_cluster(context: str, pods: int) -> ClusterObjects:
    """One cluster as the reader holds it: 4 zones x 5 nodes, `pods` workload pods,
    a client, a waypoint, the global Service and guide 001's rule."""
    region = REGIONS[context]
    zones = [f"{region}{z}" for z in "abcd"]
    nodes = {
        f"{context}-{zone}-{i}": {
            names.REGION: region,
            names.ZONE: zone,
            names.NETWORK: f"{context}-network",
        }
        for zone in zones
        for i in range(5)
    }
    node_names = list(nodes)
    workload = [
        _pod(
            f"in-ambient-{context}-{i}",
            node_names[i % len(node_names)],
            {"app": "in-ambient"},
        )
        for i in range(pods)
    ]
    client = _pod(f"client-{context}", node_names[0], {"app": "client"})
    waypoint = _pod(
        f"waypoint-{context}", node_names[0], {names.GATEWAY_NAME: "httpbin-waypoint"}
    )
    namespace = {
        "metadata": {
            "name": NS,
            "labels": {
                names.DATAPLANE_MODE: names.DATAPLANE_AMBIENT,
                names.USE_WAYPOINT: "httpbin-waypoint",
            },
        }
    }
    service = {
        "metadata": {
            "name": "in-ambient",
            "namespace": NS,
            "labels": {names.SERVICE_SCOPE: names.SERVICE_SCOPE_GLOBAL},
            "annotations": {names.TRAFFIC_DISTRIBUTION: "PreferClose"},
        },
        "spec": {"selector": {"app": "in-ambient"}},
    }
    deployment = {
        "metadata": {"name": "client", "namespace": NS},
        "spec": {"selector": {"matchLabels": {"app": "client"}}},
    }
    return ClusterObjects(
        context=context,
        server=f"synthetic://{context}",
        nodes=nodes,
        namespaces={NS: namespace},
        pods=[*workload, client, waypoint],
        services=[service],
        deployments=[deployment],
        rules=[lookup.Rule("in-ambient-failover", NS, GUIDE_001_DR)],
    )


def prediction_at_scale(out: Any, pods: int, repeats: int) -> None:
    state = MeshState({c: synthetic_cluster(c, pods) for c in REGIONS})
    rows = figures.table("case", "endpoints", "median ms", "p90 ms", "target")
    for label, down in (("now", []), ("zone us-east-1a down", ["zone=us-east-1a"])):
        selectors = [Selector.parse(s) for s in down]

        def once(selectors: list[Selector] = selectors) -> object:
            return explain.predict(
                state, "client", HOST, context="cluster1", down=selectors
            )

        prediction = explain.predict(
            state, "client", HOST, context="cluster1", down=selectors
        )
        spread = figures.timed(once, repeats)
        rows.add_row(
            label,
            str(len(prediction.rows)),
            figures.ms(spread.median),
            figures.ms(spread.p90),
            "< 100 ms",
        )
    figures.print_table(
        out,
        f"prediction for one client via its waypoint, 2 clusters x {pods:,} pods "
        f"(after the read, {repeats} repeats)",
        rows,
    )


def calls_per_what_ifs(out: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        info = runtime.start_lab("guide-001-waypoint", Path(tmp) / "state", timeout=60)
        try:
            start = time.perf_counter()
            state = reader.read_mesh(info.kubeconfig)
            read_seconds = time.perf_counter() - start
        finally:
            runtime.stop_lab(info.state_dir)
    downs = [
        "cluster=cluster1",
        "cluster=cluster2",
        "region=us-east-1",
        "region=us-west-2",
        "zone=us-east-1a",
        "zone=us-east-1b",
        "zone=us-west-2a",
        "zone=us-west-2b",
    ]
    rows = figures.table("what-ifs", "API calls", "read s", "predictions s")
    for count in (1, 10, 100):
        start = time.perf_counter()
        for i in range(count):
            explain.predict(
                state,
                "client-in-ambient",
                HOST,
                context="cluster1",
                down=[Selector.parse(downs[i % len(downs)])],
            )
        seconds = time.perf_counter() - start
        rows.add_row(
            str(count), str(state.calls), figures.secs(read_seconds), f"{seconds:.3f}"
        )
    figures.print_table(
        out,
        "API calls per explain with N what-ifs (guide-001-waypoint lab, 2 contexts; "
        "the lab is stopped before the predictions run)",
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=2000, help="pods per cluster")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    out = figures.console()
    figures.print_machine(out, "meshdrill live mesh: read once, predict many")
    prediction_at_scale(out, args.pods, args.repeats)
    calls_per_what_ifs(out)


if __name__ == "__main__":
    main()
