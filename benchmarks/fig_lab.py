"""Lab scale figures: start time and memory at 2 x N pods, and the hostname resolver.

For N = 2, 200 and 2000 pods per cluster (guide-000 with hello-world at N + N):
- `lab_start_s_2x<N>`: `runtime.start_lab` from spawn until the lab serves (every
  pod Ready, every proxy's view pushed), median of the starts;
- `lab_rss_mb_2x<N>`: the lab process's peak resident memory (VmHWM) once started;
- `resolver_us_per_answer_2x<N>`: `chaosext.locality.LocalityResolver` resolving
  every pod's hostname `PASSES` times from a cold cache, microseconds per answer,
  with the Kubernetes API calls it made;
- `lab_region_outage_2x2000` (not in quick): `chaos run region_outage.json` on the
  2 x 2000 lab (started by the drill): its verdict, wall time, and its restore.

`figures(quick)` yields (name, value) pairs; quick skips 2000 (noted in its value)
and starts each size once. Run alone: `.venv/bin/python benchmarks/fig_lab.py`.
"""

import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chaosext import clusters, locality  # noqa: E402
from chaosext.lab import runtime, topology  # noqa: E402

SIZES = (2, 200, 2000)
PASSES = 5
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


def region_outage(pods: int, directory: Path) -> str:
    """The region_outage drill on the 2 x `pods` lab: verdict, seconds, restore."""
    from tests.drills.drilling import run_drill

    work = directory / f"drill-2x{pods}"
    work.mkdir()
    path = variant(pods, directory)
    began = time.perf_counter()
    run = run_drill(
        "region_outage.json", work, variables={"lab_topology": str(path)}, timeout=900
    )
    seconds = time.perf_counter() - began
    verdict = run.verdict.get("verdict", f"no verdict (exit {run.code})")
    restore = run.verdict.get("restore") or {}
    failed = restore.get("failed") or []
    rollbacks = [r.get("status") for r in run.journal.get("rollbacks") or []]
    text = f"{verdict} in {seconds:.0f} s (rollbacks {rollbacks}"
    text += f", restore failed: {failed})" if failed else ", nothing left to restore)"
    reasons = run.verdict.get("reasons") or []
    return text + (f"; {reasons[0]}" if reasons and verdict != "passed" else "")


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
            yield "lab_region_outage_2x2000", region_outage(2000, Path(tmp))


if __name__ == "__main__":
    for figure, value in figures("--quick" in sys.argv[1:]):
        print(f"{figure}: {value}", flush=True)
