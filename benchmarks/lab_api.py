"""Lab API latency through the kubernetes client, and lab start and stop times.

1. Start and stop: `chaosext.lab.runtime.start_lab` (spawn the serve process, wait
   until state.json is written and the API answers, seeded pods Ready) and
   `stop_lab`, for each `--topology`, `--starts` times, each in a fresh temporary
   state directory.
2. API calls against one guide-000 lab, through `chaosext.clusters.connect` and
   `clusters.call` (the path every meshdrill action and probe takes: HTTPS, bearer
   token, request timeouts): list pods (one namespace, all namespaces), read a
   Deployment, read and patch its scale subresource. The patch alternates the
   replicas between N+1 and N, so the lab really creates and deletes a pod each
   time. Failed calls are counted (and their messages printed), not retried.

Figures: milliseconds per call, median and p90 over `--calls` calls after 3 warm-up
calls. About half a minute by default.

    .venv/bin/python benchmarks/lab_api.py [--calls 50] [--starts 3]
        [--topology guide-000 --topology guide-001]
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from typing import Any

import figures
from rich.console import Console

from chaosext import clusters
from chaosext.lab import runtime, topology

CONTEXT = "cluster-a"
NAMESPACE = "default"
DEPLOYMENT = "hello-world"
WARM_UP = 3


def bench_starts(args: argparse.Namespace, out: Console) -> None:
    table = figures.table(
        "topology", "start s (median / p90)", "stop s (median / p90)", left=1
    )
    for name in args.topology:
        starts: list[float] = []
        stops: list[float] = []
        for _ in range(args.starts):
            with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
                began = time.perf_counter()
                runtime.start_lab(name, tmp)
                starts.append(time.perf_counter() - began)
                began = time.perf_counter()
                runtime.stop_lab(tmp)
                stops.append(time.perf_counter() - began)
        start, stop = figures.Spread.of(starts), figures.Spread.of(stops)
        table.add_row(
            name,
            f"{figures.secs(start.median)} / {figures.secs(start.p90)}",
            f"{figures.secs(stop.median)} / {figures.secs(stop.p90)}",
        )
    figures.print_table(
        out, f"lab start (to ready) and stop, {args.starts} of each", table
    )


def calls(cluster: clusters.Cluster, replicas: int) -> dict[str, Callable[[], Any]]:
    """The timed API calls, by name."""
    core, apps = cluster.core, cluster.apps
    what = f"deployment {NAMESPACE}/{DEPLOYMENT}"
    flip = [replicas]

    def patch_scale() -> Any:
        flip[0] = replicas + 1 if flip[0] == replicas else replicas
        body = {"spec": {"replicas": flip[0]}}
        fn = apps.patch_namespaced_deployment_scale
        return clusters.call(cluster, what, fn, DEPLOYMENT, NAMESPACE, body)

    return {
        f"list pods -n {NAMESPACE}": lambda: clusters.call(
            cluster, "pods", core.list_namespaced_pod, NAMESPACE
        ),
        "list pods -A": lambda: clusters.call(
            cluster, "pods", core.list_pod_for_all_namespaces
        ),
        "read deployment": lambda: clusters.call(
            cluster, what, apps.read_namespaced_deployment, DEPLOYMENT, NAMESPACE
        ),
        "read deployment scale": lambda: clusters.call(
            cluster, what, apps.read_namespaced_deployment_scale, DEPLOYMENT, NAMESPACE
        ),
        "patch deployment scale (N+1, N)": patch_scale,
    }


def counting(fn: Callable[[], Any], failed: list[str]) -> Callable[[], None]:
    """`fn`, with the messages of the calls that fail appended to `failed`."""

    def call() -> None:
        try:
            fn()
        except clusters.ClusterError as exc:
            failed.append(str(exc))

    return call


def bench_calls(args: argparse.Namespace, out: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
        info = runtime.start_lab("guide-000", tmp)
        try:
            configuration = {"kubeconfig": str(info.kubeconfig)}
            with clusters.connect(CONTEXT, configuration) as cluster:
                scale = cluster.apps.read_namespaced_deployment_scale(
                    DEPLOYMENT, NAMESPACE
                )
                replicas = int(scale.spec.replicas)
                table = figures.table(
                    "call", "ms (median / p90)", "calls/s", "failed", left=1
                )
                notes: list[str] = []
                for name, fn in calls(cluster, replicas).items():
                    failed: list[str] = []
                    counted = counting(fn, failed)
                    for _ in range(WARM_UP):
                        counted()
                    failed.clear()
                    spread = figures.timed(counted, args.calls)
                    table.add_row(
                        name,
                        f"{figures.ms(spread.median)} / {figures.ms(spread.p90)}",
                        figures.rate(1, spread.median),
                        str(len(failed)),
                    )
                    notes += [f"{name}: {m}" for m in dict.fromkeys(failed)]
            figures.print_table(
                out,
                f"kubernetes client -> guide-000 {CONTEXT} ({info.clusters[CONTEXT]}), "
                f"{args.calls} calls each",
                table,
            )
            for note in notes:
                out.print(f"failed: {note}", soft_wrap=True)
            if notes:
                out.print()
        finally:
            runtime.stop_lab(tmp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="timed calls per row")
    parser.add_argument("--starts", type=int, default=3, help="lab starts per topology")
    parser.add_argument(
        "--topology",
        action="append",
        choices=topology.shipped(),
        help="topologies to start (repeatable; default guide-000 and guide-001)",
    )
    args = parser.parse_args()
    args.topology = args.topology or ["guide-000", "guide-001"]
    out = figures.console()
    figures.print_machine(out, "lab: API latency, start and stop")
    bench_calls(args, out)
    bench_starts(args, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
