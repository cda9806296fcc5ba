"""Lab scale figures: start time and memory at 2 x N pods, and the hostname resolver.

For N = 2, 200 and 2000 pods per cluster (guide-000 with hello-world at N + N):
- `lab_start_s_2x<N>`: `runtime.start_lab` from spawn until the lab serves (every
  pod Ready, every proxy's view pushed), median of the starts;
- `lab_rss_mb_2x<N>`: the lab process's peak resident memory (VmHWM) once started;
- `resolver_us_per_answer_2x<N>`: `chaosext.locality.LocalityResolver` resolving
  every pod's hostname `PASSES` times from a cold cache, microseconds per answer,
  with the Kubernetes API calls it made;
- `lab_region_outage_2x2000` (not in quick): `chaos run region_outage.json` on a
  2 x 2000 lab started first (its start time and peak memory): the drill's verdict,
  wall time and restore, and the worst latency of cluster A's API (GET /version
  every 50 ms from a thread) while the drill scales A to zero and back;
- `lab_api_worst_ms_scale_2x2000` (not in quick): cluster A's hello-world scaled
  2000 -> 0 -> 2000 alone on a 2 x 2000 lab, the worst GET /version latency over
  each scale (until the pods are gone / all Ready again). Alone:
  `.venv/bin/python benchmarks/fig_lab.py --scale [--busy N]` (N busy loops on
  the machine's cores while it runs; `--drill` runs `lab_region_outage_2x2000`
  alone the same way);
- `lab_api_worst_ms_list_2x2000` (`--list` only): every pod of cluster A listed
  unpaged, in pages of 500 and by `kubectl get pods -A` on an idle 2 x 2000 lab:
  each way's slowest list, the worst GET /version meanwhile, the longest CPU the
  lab's loop was held.

`figures(quick)` yields (name, value) pairs; quick skips 2000 (noted in its value)
and starts each size once. Run alone: `.venv/bin/python benchmarks/fig_lab.py`.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chaosext import clusters, locality  # noqa: E402
from chaosext.lab import runtime, tls, topology  # noqa: E402

SIZES = (2, 200, 2000)
PASSES = 5
POLL_S = 0.05
NAMESPACE = "default"
SELECTOR = "app=hello-world"


def variant(pods: int, directory: Path) -> Path:
    """guide-000 with `pods` hello-world replicas in each cluster."""
    source = topology.SHIPPED_DIR / "guide-000.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["name"] = f"guide-000-2x{pods}"
    for workload in data["workloads"]:
        workload["replicas"] = dict.fromkeys(workload["replicas"], pods)
    path = directory / f"guide-000-2x{pods}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def resolver_cost(info: runtime.LabInfo) -> tuple[float, int, int]:
    """(microseconds per answer, answers, API calls) for a cold resolver."""
    configuration: dict[str, Any] = {"kubeconfig": str(info.kubeconfig)}
    names: list[str] = []
    for context in info.clusters:
        with clusters.connect(context, configuration) as cluster:
            pods = cluster.core.list_namespaced_pod(NAMESPACE, label_selector=SELECTOR)
            names += [p.metadata.name for p in pods.items]
    calls = 0
    real_call = clusters.call

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real_call(*args, **kwargs)

    clusters.call = counted  # type: ignore[assignment]
    try:
        resolver = locality.LocalityResolver(
            list(info.clusters), NAMESPACE, SELECTOR, configuration=configuration
        )
        began = time.perf_counter()
        for _ in range(PASSES):
            for name in names:
                if resolver.resolve(name) is None:
                    raise RuntimeError(f"the resolver lost pod {name}")
        elapsed = time.perf_counter() - began
    finally:
        clusters.call = real_call  # type: ignore[assignment]
    answers = PASSES * len(names)
    return elapsed / answers * 1e6, answers, calls


def measure(pods: int, starts: int, directory: Path) -> Iterator[tuple[str, str]]:
    path = variant(pods, directory)
    seconds: list[float] = []
    rss: list[float] = []
    resolver = ""
    for attempt in range(starts):
        with tempfile.TemporaryDirectory(prefix="meshdrill-fig-lab-") as state:
            began = time.perf_counter()
            info = runtime.start_lab(str(path), state)
            try:
                seconds.append(time.perf_counter() - began)
                rss.append(peak_rss_mb(info.pid))
                if attempt == 0:
                    us, answers, calls = resolver_cost(info)
                    resolver = f"{us:.1f} ({answers} answers, {calls} API calls)"
            finally:
                runtime.stop_lab(state)
    spread = (
        f" (of {starts}: {min(seconds):.2f}-{max(seconds):.2f})" if starts > 1 else ""
    )
    yield f"lab_start_s_2x{pods}", f"{statistics.median(seconds):.2f}{spread}"
    yield f"lab_rss_mb_2x{pods}", f"{max(rss):.0f}"
    yield f"resolver_us_per_answer_2x{pods}", resolver


class ApiPoller:
    """GET /version on one API server every `POLL_S` from a thread (a new
    connection each time, as a fresh client makes), keeping the worst latency."""

    def __init__(self, info: runtime.LabInfo, cluster: str) -> None:
        self.url = f"{info.clusters[cluster]}/version"
        self.headers = {"Authorization": f"Bearer {info.token}"}
        self.context = tls.client_context(info.state_dir / tls.CA_FILE)
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            began = time.perf_counter()
            request = urllib.request.Request(self.url, headers=self.headers)
            try:
                with urllib.request.urlopen(
                    request, timeout=30, context=self.context
                ) as answer:
                    answer.read()
                self.latencies.append(time.perf_counter() - began)
            except OSError:
                self.failures += 1
            self._stop.wait(POLL_S)

    def __enter__(self) -> "ApiPoller":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def region_outage(pods: int, directory: Path) -> str:
    """The region_outage drill on a 2 x `pods` lab started here first (its start
    time and peak memory), with cluster A's API polled throughout (its worst
    latency, over the scale to zero and back): verdict, seconds, restore."""
    from tests.drills.drilling import drill_env, run_drill

    work = directory / f"drill-2x{pods}"
    work.mkdir()
    path = variant(pods, directory)
    env = drill_env(work)  # the drill uses the lab in work/lab: this one
    began = time.perf_counter()
    info = runtime.start_lab(str(path), env["MESHDRILL_LAB_DIR"])
    start_s = time.perf_counter() - began
    try:
        with ApiPoller(info, "cluster-a") as poller:
            began = time.perf_counter()
            run = run_drill(
                "region_outage.json",
                work,
                variables={"lab_topology": str(path)},
                env=env,
                timeout=900,
            )
            seconds = time.perf_counter() - began
        rss = peak_rss_mb(info.pid)
    finally:
        runtime.stop_lab(env["MESHDRILL_LAB_DIR"])
    verdict = run.verdict.get("verdict", f"no verdict (exit {run.code})")
    restore = run.verdict.get("restore") or {}
    failed = restore.get("failed") or []
    rollbacks = [r.get("status") for r in run.journal.get("rollbacks") or []]
    text = f"{verdict} in {seconds:.0f} s (rollbacks {rollbacks}"
    text += f", restore failed: {failed})" if failed else ", nothing left to restore)"
    worst = max(poller.latencies, default=float("nan")) * 1000
    text += (
        f"; lab start {start_s:.1f} s, peak RSS {rss:.0f} MB; API worst "
        f"{worst:.0f} ms over {len(poller.latencies)} GET /version during the drill"
        f" ({poller.failures} failed)"
    )
    reasons = run.verdict.get("reasons") or []
    return text + (f"; {reasons[0]}" if reasons and verdict != "passed" else "")


def _deployment(info: runtime.LabInfo, cluster: str) -> tuple[int, int]:
    """(replicas, Ready replicas) of hello-world in `cluster` from its Deployment's
    status: a small read (a list of 2,000 pods would hold the lab's loop itself
    for ~0.1 s while it is serialized)."""
    configuration: dict[str, Any] = {"kubeconfig": str(info.kubeconfig)}
    with clusters.connect(cluster, configuration) as api:
        status = api.apps.read_namespaced_deployment("hello-world", NAMESPACE).status
    return status.replicas or 0, status.ready_replicas or 0


def _scale(info: runtime.LabInfo, cluster: str, replicas: int) -> None:
    configuration: dict[str, Any] = {"kubeconfig": str(info.kubeconfig)}
    with clusters.connect(cluster, configuration) as api:
        api.apps.patch_namespaced_deployment_scale(
            "hello-world", NAMESPACE, {"spec": {"replicas": replicas}}
        )


PROBE_DIR = Path(__file__).resolve().parent / "loopprobe"


def _held(probe: Path, began: float, ended: float) -> str:
    """The longest CPU the lab's loop was held between `began` and `ended`
    (monotonic), by one callback and by one garbage collection
    (`loopprobe/sitecustomize.py`); and the longest callback without the
    collections that ran inside it (a collection over the probe's floor is
    recorded when it ends, before the callback it ran in)."""
    records = [json.loads(line) for line in probe.read_text().splitlines()]
    net: list[tuple[float, str]] = []
    inside_gc = 0.0
    for record in records:
        if record["what"].startswith("gc "):
            inside_gc += record["cpu"]
            continue
        if began <= record["at"] <= ended:
            net.append((max(record["cpu"] - inside_gc, 0.0), record["what"]))
        inside_gc = 0.0
    inside = [r for r in records if began <= r["at"] <= ended]
    gcs = [r for r in inside if r["what"].startswith("gc ")]
    steps = [r for r in inside if not r["what"].startswith("gc ")]
    text = []
    for name, found in (("callback", steps), ("gc", gcs)):
        worst = max(found, key=lambda r: r["cpu"], default=None)
        text.append(
            f"{name} {worst['cpu'] * 1000:.0f} ms CPU ({worst['what'][:100]})"
            if worst
            else f"no {name} over 20 ms CPU"
        )
    cpu, what = max(net, default=(0.0, "none"))
    text.append(f"callback without its collections {cpu * 1000:.0f} ms ({what[:60]})")
    return "loop held at most: " + ", ".join(text)


def _start_probed(path: Path, state: str, probe: Path) -> runtime.LabInfo:
    """Start the lab at `path` in `state` with the loop probe writing to `probe`."""
    pythonpath = os.environ.get("PYTHONPATH")
    os.environ["MESHDRILL_LOOP_PROBE"] = str(probe)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(PROBE_DIR), *filter(None, [pythonpath])]
    )
    try:
        return runtime.start_lab(str(path), state)
    finally:
        del os.environ["MESHDRILL_LOOP_PROBE"]
        if pythonpath is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = pythonpath


def scale_stall(pods: int, directory: Path) -> str:
    """Cluster A's hello-world scaled `pods` -> 0 -> `pods` on a 2 x `pods` lab:
    the worst GET /version latency over each scale (until the Deployment's status
    says done, and 2 s more; 120 s at most)
    and the longest CPU the lab's event loop was held (the probe)."""
    path = variant(pods, directory)
    probe = directory / "loop-probe.jsonl"
    windows: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="meshdrill-fig-lab-") as state:
        info = _start_probed(path, state, probe)
        try:
            text = []
            for replicas, done in ((0, (0, 0)), (pods, (pods, pods))):
                with ApiPoller(info, "cluster-a") as poller:
                    began = time.perf_counter()
                    opened = time.monotonic()
                    _scale(info, "cluster-a", replicas)
                    while _deployment(info, "cluster-a") != done:
                        if time.perf_counter() - began > 120:
                            raise RuntimeError(f"scale to {replicas} not done")
                        time.sleep(0.2)
                    seconds = time.perf_counter() - began
                    time.sleep(2.0)  # the pods' ends, the pushes and records
                    windows.append((opened, time.monotonic()))
                worst = max(poller.latencies, default=float("nan")) * 1000
                text.append(
                    f"to {replicas}: worst {worst:.0f} ms over "
                    f"{len(poller.latencies)} GET /version ({poller.failures} "
                    f"failed), done in {seconds:.1f} s"
                )
            rss = peak_rss_mb(info.pid)
        finally:
            runtime.stop_lab(state)
    for i, (opened, closed) in enumerate(windows):
        held = _held(probe, opened, closed) if probe.exists() else "no probe"
        text[i] += "; " + held
    return " | ".join(text) + f" | lab peak RSS {rss:.0f} MB"


LISTS = {
    "unpaged": ("get", "--raw", "/api/v1/pods"),
    "paged": ("get", "pods", "-A", "-o", "json", "--chunk-size=500"),
    "kubectl": ("get", "pods", "-A", "--no-headers"),
}
"""Three ways to list every pod, each a kubectl process (not a thread of this
one, whose parsing would hold the poller's interpreter): one GET /api/v1/pods,
JSON pages of 500, and `kubectl get pods -A` (Tables of 500, its default)."""


def _list_pods(info: runtime.LabInfo, cluster: str, how: str) -> str:
    """Every pod of `cluster` listed one way (`LISTS`): kubectl's output."""
    return subprocess.run(
        [
            *("kubectl", "--kubeconfig", str(info.kubeconfig), "--context", cluster),
            *LISTS[how],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _count(how: str, output: str) -> int:
    if how == "kubectl":
        return len(output.splitlines())
    return len(json.loads(output)["items"])


def list_stall(pods: int, directory: Path, repeats: int = 3) -> str:
    """Every pod of cluster A listed unpaged, paged and by `kubectl get pods -A`
    on an idle 2 x `pods` lab, `repeats` times each, alternated: per way, the
    slowest list, the worst GET /version meanwhile and the longest CPU the lab's
    loop was held (the probe)."""
    path = variant(pods, directory)
    probe = directory / "loop-probe-list.jsonl"
    ways = tuple(LISTS)
    windows: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    walls: dict[str, list[float]] = {way: [] for way in ways}
    worst: dict[str, float] = dict.fromkeys(ways, 0.0)
    counts: dict[str, set[int]] = {way: set() for way in ways}
    with tempfile.TemporaryDirectory(prefix="meshdrill-fig-lab-") as state:
        info = _start_probed(path, state, probe)
        try:
            for _ in range(repeats):
                for way in ways:
                    with ApiPoller(info, "cluster-a") as poller:
                        time.sleep(0.2)  # the poller's first answers
                        opened = time.monotonic()
                        began = time.perf_counter()
                        output = _list_pods(info, "cluster-a", way)
                        walls[way].append(time.perf_counter() - began)
                        closed = time.monotonic()
                        time.sleep(0.1)
                    counts[way].add(_count(way, output))
                    windows[way].append((opened, closed))
                    late = max(poller.latencies, default=float("nan")) * 1000
                    worst[way] = max(worst[way], late)
        finally:
            runtime.stop_lab(state)
    records = [json.loads(line) for line in probe.read_text().splitlines()]
    text = []
    for way in ways:
        held = [
            r
            for r in records
            if not r["what"].startswith("gc ")
            and any(a <= r["at"] <= b for a, b in windows[way])
        ]
        longest = max(held, key=lambda r: r["cpu"], default=None)
        text.append(
            f"{way}: {sorted(counts[way])} pods in at most "
            f"{max(walls[way]) * 1000:.0f} ms, API worst {worst[way]:.0f} ms, "
            + (
                f"loop held at most {longest['cpu'] * 1000:.0f} ms CPU "
                f"({len(held)} steps over 20 ms; {longest['what'][:80]})"
                if longest
                else "no loop step over 20 ms CPU"
            )
        )
    return " | ".join(text)


def figures(quick: bool) -> Iterator[tuple[str, str]]:
    """Lab start, memory and resolver cost at each size (quick: 2 and 200, once)."""
    with tempfile.TemporaryDirectory(prefix="meshdrill-fig-lab-") as tmp:
        for pods in SIZES:
            if quick and pods >= 2000:
                note = "skipped in --quick (a 2x2000 lab takes ~10-20 s to start)"
                for name in ("lab_start_s", "lab_rss_mb", "resolver_us_per_answer"):
                    yield f"{name}_2x{pods}", note
                continue
            yield from measure(pods, 1 if quick else 3, Path(tmp))
        if not quick:
            yield "lab_api_worst_ms_scale_2x2000", scale_stall(2000, Path(tmp))
            yield "lab_region_outage_2x2000", region_outage(2000, Path(tmp))


def _busy(loops: int) -> list[subprocess.Popen[bytes]]:
    """`loops` busy processes (`yes`), to measure under CPU contention."""
    return [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(loops)]


if __name__ == "__main__":
    args = sys.argv[1:]
    busy = _busy(int(args[args.index("--busy") + 1]) if "--busy" in args else 0)
    try:
        alone = {
            "--drill": ("lab_region_outage_2x2000", region_outage),
            "--list": ("lab_api_worst_ms_list_2x2000", list_stall),
            "--scale": ("lab_api_worst_ms_scale_2x2000", scale_stall),
        }
        chosen = [flag for flag in alone if flag in args]
        if chosen:
            name, measure = alone[chosen[0]]
            with tempfile.TemporaryDirectory(prefix="meshdrill-fig-lab-") as tmp:
                result = measure(2000, Path(tmp))
            load = os.getloadavg()[0]
            print(
                f"{name}: {result} (load {load:.1f}, {len(busy)} busy loops)",
                flush=True,
            )
        else:
            for figure, value in figures("--quick" in args):
                print(f"{figure}: {value}", flush=True)
    finally:
        for process in busy:
            process.terminate()
            process.wait()
