"""Sampler throughput against the lab, side by side with the guides' loops and hey.

Ingress (a guide-000 lab, its ingress gateway's LoadBalancer address, GET /,
the `hello` extractor), repeats interleaved:
- `probes.sampling.sample_http`, 200 requests at its default concurrency (8);
- the same with `requests` Sessions (what the sampler used before: one
  `requests.Session` per worker, which re-reads the environment and ~/.netrc per
  request), to reproduce that finding;
- the guides' loop, one `curl` process per request, run here in `sh`;
- `hey -n 200 -c 8` (skipped with a note when `hey` is not installed:
  `apt-get install -y hey`).
Exec (a guide-001 lab, `deploy/client-in-ambient` in cluster1, curling
`in-ambient.httpbin.mesh.internal:8000/hostname`, as the cluster_failover tier):
- `probes.exec_sampling.sample_exec`, 200 requests in one exec;
- the guides' loop through the same exec, `for i in $(seq 1 N); do curl ...; done`.

Figures are requests per second, and their ratios per interleaved pair of repeats.
"""

import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import requests
from measuring import figure_text, interleaved, private_lab, ratios

from chaosext import clusters
from probes import exec_sampling, sampling, source

N = 200
LOOP_N = 50  # the per-process loops are slow: fewer requests, same rate
INGRESS = {"service": "istio-system/istio-ingressgateway", "context": "cluster-a"}
CLIENT = ("cluster1", "httpbin", "deploy/client-in-ambient")
SERVICE_URL = "in-ambient.httpbin.mesh.internal:8000/hostname"


def rate(count: int, take: Callable[[], object]) -> float:
    start = time.perf_counter()
    take()
    return count / (time.perf_counter() - start)


def requests_sampler(url: str, count: int, concurrency: int = 8) -> None:
    """The previous sampler's request path: a requests.Session per worker."""
    per_worker = [count // concurrency] * concurrency

    def worker(n: int) -> None:
        with requests.Session() as session:
            for _ in range(n):
                session.get(url, timeout=2.0).content  # noqa: B018

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(worker, per_worker))


def curl_loop(url: str, count: int) -> None:
    script = f"for i in $(seq 1 {count}); do curl -s '{url}' >/dev/null; done"
    subprocess.run(["sh", "-c", script], check=True)


def hey_rate(url: str, count: int) -> float:
    done = subprocess.run(
        ["hey", "-n", str(count), "-c", "8", url],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Requests/sec:\s+([0-9.]+)", done.stdout)
    if not found:
        raise RuntimeError(f"no Requests/sec in hey's output: {done.stdout[-300:]}")
    return float(found.group(1))


def ingress(repeats: int) -> Iterator[tuple[str, str]]:
    with private_lab("guide-000") as info:
        configuration = {"kubeconfig": str(info.kubeconfig)}
        url = source.source_from(
            {"ingress": INGRESS, "path": "/"}, configuration, None
        ).url()
        contenders: dict[str, Callable[[], float]] = {
            "sampler": lambda: rate(
                N, lambda: sampling.sample_http(url, N, extractor="hello")
            ),
            "requests": lambda: rate(N, lambda: requests_sampler(url, N)),
            "curl_loop": lambda: rate(LOOP_N, lambda: curl_loop(url, LOOP_N)),
        }
        has_hey = shutil.which("hey") is not None
        if has_hey:
            contenders["hey"] = lambda: hey_rate(url, N)
        interleaved(contenders, 1)  # warm-up
        got = interleaved(contenders, repeats)
    yield "ingress_sampler_req_s", figure_text(got["sampler"], "req/s", 0)
    yield "ingress_requests_sampler_req_s", figure_text(got["requests"], "req/s", 0)
    yield "curl_loop_req_s", figure_text(got["curl_loop"], "req/s", 0)
    yield (
        "sampler_speedup_vs_curl_loop",
        figure_text(ratios(got["sampler"], got["curl_loop"]), "x"),
    )
    yield (
        "sampler_vs_requests_sampler",
        figure_text(ratios(got["sampler"], got["requests"]), "x"),
    )
    if has_hey:
        yield "hey_req_s", figure_text(got["hey"], "req/s", 0)
        yield "sampler_vs_hey", figure_text(ratios(got["sampler"], got["hey"]), "x")
    else:
        yield "sampler_vs_hey", "skipped: hey is not installed (apt-get install -y hey)"


def exec_tier(repeats: int) -> Iterator[tuple[str, str]]:
    context, namespace, ref = CLIENT
    with (
        private_lab("guide-001") as info,
        clusters.connect(context, {"kubeconfig": str(info.kubeconfig)}) as cluster,
    ):
        pod = clusters.resolve_pod(cluster, namespace, ref).metadata.name

        def run(argv: list[str]) -> tuple[str, str, int]:
            return cluster.exec(namespace, pod, argv, 120.0)

        def guide_loop() -> None:
            script = f"for i in $(seq 1 {LOOP_N}); do curl -s {SERVICE_URL}; done"
            _, err, code = run(["sh", "-c", script])
            if code:
                raise RuntimeError(f"guide loop exit {code}: {err[-200:]}")

        def sampler() -> None:
            sample = exec_sampling.sample_exec(run, SERVICE_URL, N, 2.0, "bare")
            if sample.error_count:
                raise RuntimeError(f"exec sampler errors: {sample.errors}")

        contenders = {
            "sampler": lambda: rate(N, sampler),
            "loop": lambda: rate(LOOP_N, guide_loop),
        }
        interleaved(contenders, 1)
        got = interleaved(contenders, repeats)
    yield "exec_sampler_req_s", figure_text(got["sampler"], "req/s", 0)
    yield "exec_guide_loop_req_s", figure_text(got["loop"], "req/s", 0)
    yield (
        "exec_sampler_vs_guide_loop",
        figure_text(ratios(got["sampler"], got["loop"]), "x"),
    )


def figures(quick: bool) -> Iterator[tuple[str, str]]:
    # An ingress repeat takes well under a second (the sampler's 200 answers
    # about 40 ms): more repeats for a steadier median on a shared machine.
    yield from ingress(9 if quick else 21)
    yield from exec_tier(3 if quick else 7)
