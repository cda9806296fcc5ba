"""Drills end to end: what a drill costs beyond the lab's waits, and how precisely
it times the failover.

Every tier's experiment runs as a user runs it (`chaos run`, via
tests/drills/drilling.py: a fresh HOME, lab and journal directory per run, the
tier's shipped topology and timing), in round-robin order across tiers.

- `drill_overhead_ratio_<tier>`: the run's wall time over what the lab imposes
  and what the experiment declares: the lab's start (`runtime.start_lab` of the
  tier's topology, measured right before each run, so that both see the same
  load), plus the run's waits from its journal and the lab's record
  (`drillwaits`): routing transitions, pods the lab was asked to start or stop
  while an action or a pod-waiting probe ran, requests an injected delay held
  (weighted by the sampler's concurrency), and declared holds and pauses, each
  moment counted once. 1.0 would mean the drill costs nothing else: not chaos'
  start, nor the steady-state samples, nor the streaks, nor the restore's own
  work. The breakdown shows each kind apart. `drill_overhead_ratio` is the worst
  tier's median.
- `failover_detection_error_ms` (region_outage, ingress sampling) and
  `failover_detection_error_exec_ms` (cluster_failover, exec sampling): the failover
  probe's measured transition (`started_at + transition_seconds`) minus the lab's
  ground truth, the moment the new regime could begin, from the lab's
  `routing.jsonl` record: for the gateway (Envoy retries a refused request onto
  another endpoint) the first of its routing push without the failing cluster and
  the last of that cluster's pods stopping; for ztunnel (no retries: resets until
  then) the push. Where the lab keeps no record, the reference
  is the fault action's completion instead, and the figure says so (it then
  includes the lab's propagation delay: it bounds the error from above).
"""

import compileall
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillwaits import Waits, covered, union, utc
from measuring import figure_text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run by hand: tests.drills is not installed
    sys.path.insert(0, str(ROOT))

from chaosext.lab import groundtruth, runtime  # noqa: E402
from tests.drills import drilling  # noqa: E402

EXPERIMENTS = drilling.ROOT / "experiments"
GATEWAY = "gateway/istio-ingressgateway"


@dataclass(frozen=True)
class Truth:
    """Where a tier's failover shows in the lab's record."""

    tier: str
    failed: str  # the cluster traffic leaves
    host: str  # part of the host name the probe's traffic goes to
    proxy: str | None = None  # the proxy that routes it (None: any in `cluster`)
    cluster: str | None = None
    retries: bool = True
    """Envoy (L7) retries a request that a gone pod refuses onto another endpoint:
    traffic moves at the first of the push and the pods' stopping. ztunnel (L4)
    does not: its client sees resets until the push."""


DETECTION = {
    "failover_detection_error_ms": Truth(
        "region_outage", "cluster-a", "hello-world", proxy=GATEWAY
    ),
    "failover_detection_error_exec_ms": Truth(
        "cluster_failover", "cluster1", "in-ambient", cluster="cluster1", retries=False
    ),
}


@dataclass
class Run:
    wall: float
    transitions: list[float]
    waits: Waits  # what the lab imposed and the experiment declared
    failover: dict[str, Any] | None
    fault_end: float | None
    records: list[dict[str, Any]] | None
    code: int
    log: str = field(repr=False, default="")
    reasons: list[str] = field(default_factory=list)  # the verdict's, if it failed
    lab_start: float = 0.0  # the topology's lab start, measured just before


def tiers() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS.glob("*.json"))


def topology_of(tier: str) -> str:
    data = json.loads((EXPERIMENTS / f"{tier}.json").read_text())
    return str(data["configuration"]["lab_topology"])


def run_tier(tier: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as name:
        tmp = Path(name)
        began = time.perf_counter()
        try:
            drill = drilling.run_drill(f"{tier}.json", tmp, timeout=300)
        finally:
            wall = time.perf_counter() - began
            runtime.stop_lab(tmp / "lab")  # only if the run left its lab behind
        records = (
            groundtruth.read(tmp / "lab")
            if (tmp / "lab" / groundtruth.FILE).exists()
            else None
        )
    waits, failover, fault_end, last_action_end = [], None, None, None
    for item in drill.journal.get("run", []):
        activity = item.get("activity", {})
        output = item.get("output")
        if activity.get("type") == "action" and item.get("end"):
            last_action_end = utc(item["end"])
        if isinstance(output, dict) and output.get("probe") == "wait_for_split":
            waits.append(float(output.get("transition_seconds") or 0.0))
            if failover is None:
                failover, fault_end = output, last_action_end
    return Run(
        wall,
        waits,
        Waits.of(drill.journal, records or []),
        failover,
        fault_end,
        records,
        drill.code,
        drill.log,
        [str(r) for r in drill.verdict.get("reasons") or []],
    )


def why_failed(run: Run) -> str:
    """A failed run's verdict reasons, or its output's last line."""
    reasons = run.reasons or [line for line in run.log.splitlines() if line][-1:]
    return f"exit {run.code}: " + " | ".join(reasons)[:500]


def breakdown(done: list[Run]) -> str:
    """The medians the ratio is made of, in words."""

    def median(of: Any) -> float:
        return float(statistics.median(of(x) for x in done))

    parts = [
        f"wall {median(lambda x: x.wall):.1f} s",
        f"lab start {median(lambda x: x.lab_start):.1f} s",
        f"lab waits {median(lambda x: x.waits.lab):.1f} s",
    ]
    kinds = [
        (what, seconds)
        for what, seconds in (
            ("pods coming or going in actions", median(lambda x: union(x.waits.pods))),
            ("injected delays", median(lambda x: covered([], x.waits.delays))),
        )
        if seconds >= 0.05
    ]
    if kinds:
        parts[-1] += f" ({', '.join(f'{w} {s:.1f} s' for w, s in kinds)})"
    declared = median(lambda x: union(x.waits.declared))
    if declared:
        parts.append(f"declared waits {declared:.1f} s")
    parts.append(f"all waits once {median(lambda x: x.waits.total):.1f} s")
    return ", ".join(parts)


def truth(records: list[dict[str, Any]], how: Truth, after: float) -> float | None:
    routes = [
        r["at"]
        for r in records
        if r["type"] == "route"
        and r["at"] > after
        and how.host in r.get("host", "")
        and (how.proxy is None or r.get("proxy") == how.proxy)
        and (how.cluster is None or r.get("cluster") == how.cluster)
        and how.failed not in r.get("shares", {}).get("cluster", {})
    ]
    stops = [
        r["at"]
        for r in records
        if r["type"] == "pod"
        and r["cluster"] == how.failed
        and not r["answering"]
        and r["at"] > after
    ]
    if not how.retries:
        return min(routes) if routes else None
    moments = ([min(routes)] if routes else []) + ([max(stops)] if stops else [])
    return min(moments) if moments else None


def detection_error(run: Run, how: Truth) -> tuple[float | None, str]:
    """(measured - reference in ms, what the reference was)."""
    out = run.failover
    if not out or out.get("transition_seconds") is None:
        return None, "no transition"
    measured = float(out["started_at"]) + float(out["transition_seconds"])
    if run.records is not None:
        # the fault starts at most a few seconds before its probe
        moment = truth(run.records, how, float(out["started_at"]) - 30.0)
        if moment is not None:
            return (measured - moment) * 1e3, "lab record"
    if run.fault_end is None:
        return None, "no fault action"
    return (measured - run.fault_end) * 1e3, "action completion"


def lab_start(topology: str) -> float:
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
        began = time.perf_counter()
        runtime.start_lab(topology, tmp)
        took = time.perf_counter() - began
        runtime.stop_lab(Path(tmp))
    return took


def as_installed() -> None:
    """Byte-compile the project's packages, as `pip install` does: an editable
    install run with PYTHONDONTWRITEBYTECODE (as here) would otherwise compile
    every module in every drill and lab process."""
    for package in ("chaosext", "probes"):
        compileall.compile_dir(drilling.ROOT / package, quiet=1)


def figures(quick: bool, only: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """The figures over every tier, or over the tiers in `only`."""
    as_installed()
    names = tiers()
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"unknown tier(s) {unknown}; have {names}")
        names = [t for t in names if t in only]
    repeats = dict.fromkeys(names, 1 if quick else 3)
    for how in DETECTION.values():
        if how.tier in repeats:
            repeats[how.tier] = 3 if quick else 7
    runs: dict[str, list[Run]] = {t: [] for t in names}
    for r in range(max(repeats.values())):  # round robin: tiers interleaved
        for tier in names:
            if r < repeats[tier]:
                start = lab_start(topology_of(tier))  # paired with its run
                runs[tier].append(run_tier(tier))
                runs[tier][-1].lab_start = start
    worst: tuple[float, str] | None = None
    for tier in names:
        done = [x for x in runs[tier] if x.code == 0]
        failed = len(runs[tier]) - len(done)
        if not done:
            yield f"drill_overhead_ratio_{tier}", f"n/a ({failed} runs failed)"
            continue
        for x in runs[tier]:
            if x.code != 0:
                yield f"drill_failed_{tier}", why_failed(x)
        ratios = [x.wall / (x.lab_start + x.waits.total) for x in done]
        note = f"; {failed} failed" if failed else ""
        yield (
            f"drill_overhead_ratio_{tier}",
            figure_text(ratios, "x") + f" ({breakdown(done)}{note})",
        )
        median = statistics.median(ratios)
        if worst is None or median > worst[0]:
            worst = (median, tier)
    if worst is not None:
        yield "drill_overhead_ratio", f"{worst[0]:.2f} x ({worst[1]})"
    for name, how in DETECTION.items():
        if how.tier not in runs:
            continue
        found = [detection_error(x, how) for x in runs[how.tier] if x.code == 0]
        errors = [e for e, _ in found if e is not None]
        kinds = sorted({k for e, k in found if e is not None})
        if not errors:
            yield name, f"n/a ({', '.join(k for _, k in found) or 'no run passed'})"
            continue
        worst_error = max(errors, key=abs)
        yield (
            name,
            figure_text(errors, "ms", 1)
            + f" worst {worst_error:+.1f} ms ({how.tier}; vs {', '.join(kinds)})",
        )
        resolutions = [
            float(x.failover.get("transition_resolution_seconds") or 0.0) * 1e3
            for x in runs[how.tier]
            if x.code == 0 and x.failover
        ]
        yield (
            f"{name.removesuffix('_ms')}_resolution_ms",
            figure_text(resolutions, "ms", 1),
        )


if __name__ == "__main__":  # python benchmarks/fig_drills.py [--full] TIER...
    from measuring import load_average

    args = sys.argv[1:]
    chosen = [a for a in args if a != "--full"]
    print("load_average_start:", load_average(), flush=True)
    for name, value in figures("--full" not in args, chosen):
        print(f"{name}: {value}", flush=True)
    print("load_average_end:", load_average(), flush=True)
