"""Sampling throughput: requests per second the drills' two samplers reach in the lab.

1. `probes.sampling.sample_http` against a guide-000 lab's ingress gateway (the URL
   resolved from the LoadBalancer Service, as the region_outage tier does), GET / with
   the `hello` extractor, at each `--concurrency`.
2. `probes.exec_sampling.sample_exec` through `chaosext.clusters.connect(...).exec`
   into a guide-001 lab's `deploy/client-in-ambient` pod in cluster1, curling
   `in-ambient.httpbin.mesh.internal:8000/hostname` (the cluster_failover tier's
   source); also one-request execs, which show the fixed cost of an exec.

Each lab is started in a temporary state directory and stopped at the end. Figures
are per batch (one `sample_*` call), median and p90 over `--repeats`, after one
warm-up batch. About a minute by default.

    .venv/bin/python benchmarks/sampling.py [--count 200] [--concurrency 1,4,8,16]
        [--exec-count 50] [--repeats 5]
"""

import argparse
import tempfile
import time
from collections.abc import Callable

import figures
from rich.console import Console

from chaosext import clusters
from chaosext.lab import runtime
from probes import exec_sampling, sampling, source

TIMEOUT = 2.0
INGRESS = {"service": "istio-system/istio-ingressgateway", "context": "cluster-a"}
CLIENT = ("cluster1", "httpbin", "deploy/client-in-ambient")
SERVICE_URL = "in-ambient.httpbin.mesh.internal:8000/hostname"


def batches(
    take: Callable[[], sampling.Sample], repeats: int
) -> tuple[figures.Spread, int]:
    """(seconds per batch, failed requests in all batches), after one warm-up."""
    take()
    seconds: list[float] = []
    failed = 0
    for _ in range(repeats):
        start = time.perf_counter()
        sample = take()
        seconds.append(time.perf_counter() - start)
        failed += sample.error_count
    return figures.Spread.of(seconds), failed


def bench_http(args: argparse.Namespace, out: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
        info = runtime.start_lab("guide-000", tmp)
        try:
            configuration = {"kubeconfig": str(info.kubeconfig)}
            url = source.source_from(
                {"ingress": INGRESS, "path": "/"}, configuration, None
            ).url()
            title = (
                f"sample_http -> guide-000 ingress {url} "
                f"({args.count} requests per batch, {args.repeats} batches)"
            )
            table = figures.table(
                "concurrency",
                "batch s (median / p90)",
                "requests/s",
                "ms per request",
                "failed",
            )
            for concurrency in args.concurrency:

                def take(concurrency: int = concurrency) -> sampling.Sample:
                    return sampling.sample_http(
                        url,
                        args.count,
                        concurrency=concurrency,
                        timeout=TIMEOUT,
                        extractor="hello",
                    )

                spread, failed = batches(take, args.repeats)
                table.add_row(
                    str(concurrency),
                    f"{figures.secs(spread.median)} / {figures.secs(spread.p90)}",
                    figures.rate(args.count, spread.median),
                    figures.ms(spread.median / args.count),
                    str(failed),
                )
            figures.print_table(out, title, table)
        finally:
            runtime.stop_lab(tmp)


def bench_exec(args: argparse.Namespace, out: Console) -> None:
    context, namespace, ref = CLIENT
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
        info = runtime.start_lab("guide-001", tmp)
        try:
            configuration = {"kubeconfig": str(info.kubeconfig)}
            with clusters.connect(context, configuration) as cluster:
                pod = clusters.resolve_pod(cluster, namespace, ref).metadata.name
                title = (
                    f"sample_exec in {namespace}/{pod} ({context}) -> {SERVICE_URL} "
                    f"({args.repeats} execs each)"
                )
                table = figures.table(
                    "requests per exec",
                    "exec s (median / p90)",
                    "requests/s",
                    "ms per request",
                    "failed",
                )
                for count in (1, args.exec_count):

                    def take(count: int = count) -> sampling.Sample:
                        def run(argv: list[str]) -> tuple[str, str, int]:
                            limit = exec_sampling.exec_timeout(count, TIMEOUT)
                            return cluster.exec(namespace, pod, argv, limit)

                        return exec_sampling.sample_exec(
                            run, SERVICE_URL, count, TIMEOUT, "bare"
                        )

                    spread, failed = batches(take, args.repeats)
                    table.add_row(
                        str(count),
                        f"{figures.secs(spread.median)} / {figures.secs(spread.p90)}",
                        figures.rate(count, spread.median),
                        figures.ms(spread.median / count),
                        str(failed),
                    )
                figures.print_table(out, title, table)
        finally:
            runtime.stop_lab(tmp)


def concurrencies(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"need positive integers, got {text!r}")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="HTTP requests/batch")
    parser.add_argument(
        "--concurrency",
        type=concurrencies,
        default=[1, 4, 8, 16],
        help="comma-separated worker counts (default 1,4,8,16)",
    )
    parser.add_argument("--exec-count", type=int, default=50, help="curls per exec")
    parser.add_argument("--repeats", type=int, default=5, help="batches per figure")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-exec", action="store_true")
    args = parser.parse_args()
    out = figures.console()
    figures.print_machine(out, "sampling: ingress HTTP and exec in a client pod")
    if not args.skip_http:
        bench_http(args, out)
    if not args.skip_exec:
        bench_exec(args, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
