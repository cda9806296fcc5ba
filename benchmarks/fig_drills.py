"""Drills end to end: what a drill costs beyond the lab's waits, and how precisely
it times the failover.

Every tier's experiment runs as a user runs it (`chaos run`, via
tests/drills/drilling.py: a fresh HOME, lab and journal directory per run, the
tier's shipped topology and timing), in round-robin order across tiers.

- `drill_overhead_ratio_<tier>`: the run's wall time over what the lab imposes:
  its start (`runtime.start_lab` of the tier's topology, measured right before
  each run, so that both see the same load), plus
  the union of (a) the time routing took to change in each wait of the run
  (from each wait's `started_at` for its `transition_seconds`: the method's
  `wait_for_split` probes and the waits inside actions, such as conformance's
  per-locality failover and recovery) and (b) the time actions spent waiting for
  pods the lab was still starting (a restore waiting for returning pods to be
  Ready): from the lab's record, each pod's `since` (created) to `at`
  (answering), clipped to the actions' spans. Overlaps count once. 1.0 would
  mean the drill costs nothing else: not chaos' start, nor the steady-state
  samples, nor the streaks, nor the restore's own work. `drill_overhead_ratio`
  is the worst tier's median.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from measuring import figure_text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run by hand: tests.drills is not installed
    sys.path.insert(0, str(ROOT))

from chaosext.lab import runtime  # noqa: E402
from tests.drills import drilling  # noqa: E402

EXPERIMENTS = drilling.ROOT / "experiments"
RECORD = "routing.jsonl"
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
    starting: float  # seconds actions waited on pods the lab was starting
    imposed: float  # transitions and pods starting in actions, overlaps once
    failover: dict[str, Any] | None
    fault_end: float | None
    records: list[dict[str, Any]] | None
    code: int
    log: str = field(repr=False, default="")
    lab_start: float = 0.0  # the topology's lab start, measured just before


def tiers() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS.glob("*.json"))


def topology_of(tier: str) -> str:
    data = json.loads((EXPERIMENTS / f"{tier}.json").read_text())
    return str(data["configuration"]["lab_topology"])


def _utc(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def run_tier(tier: str) -> Run:
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as name:
        tmp = Path(name)
        began = time.perf_counter()
        try:
            drill = drilling.run_drill(f"{tier}.json", tmp, timeout=300)
        finally:
            wall = time.perf_counter() - began
            runtime.stop_lab(tmp / "lab")  # only if the run left its lab behind
        record = tmp / "lab" / RECORD
        records = (
            [json.loads(line) for line in record.read_text().splitlines() if line]
            if record.exists()
            else None
        )
    waits, failover, fault_end, last_action_end = [], None, None, None
    for item in drill.journal.get("run", []):
        activity = item.get("activity", {})
        output = item.get("output")
        if activity.get("type") == "action" and item.get("end"):
            last_action_end = _utc(item["end"])
        if isinstance(output, dict) and output.get("probe") == "wait_for_split":
            waits.append(float(output.get("transition_seconds") or 0.0))
            if failover is None:
                failover, fault_end = output, last_action_end
    starting = pods_starting(drill.journal, records or [])
    imposed = union([*transition_spans(drill.journal), *starting])
    return Run(
        wall,
        waits,
        union(starting),
        imposed,
        failover,
        fault_end,
        records,
        drill.code,
        drill.log,
    )


def transition_spans(journal: dict[str, Any]) -> list[tuple[float, float]]:
    """(started_at, started_at + transition_seconds) of every wait in the run's
    outputs: `wait_for_split` probes, and waits an action reports inside its own
    output (conformance's per-locality failover and recovery)."""
    spans: list[tuple[float, float]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            took, since = value.get("transition_seconds"), value.get("started_at")
            if isinstance(took, int | float) and isinstance(since, int | float):
                spans.append((float(since), float(since) + float(took)))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for item in journal.get("run", []):
        walk(item.get("output"))
    return spans


# Probes that only wait for the lab to start or stop a Deployment's pods
POD_WAITS = {("probes.deployments", "deployment_ready")}


def action_spans(journal: dict[str, Any]) -> list[tuple[float, float]]:
    """(start, end) of every action the run and its rollbacks ran, and of every
    probe that only waits for pods to become Ready (POD_WAITS)."""

    def waits_on_pods(activity: dict[str, Any]) -> bool:
        if activity.get("type") == "action":
            return True
        provider = activity.get("provider") or {}
        return (provider.get("module"), provider.get("func")) in POD_WAITS

    return [
        (_utc(item["start"]), _utc(item["end"]))
        for item in [*journal.get("run", []), *journal.get("rollbacks", [])]
        if waits_on_pods(item.get("activity") or {})
        and item.get("start")
        and item.get("end")
    ]


def pods_starting(
    journal: dict[str, Any], records: list[dict[str, Any]]
) -> list[tuple[float, float]]:
    """The spans, inside actions (and probes that wait for pods to be Ready),
    when a pod the lab was starting (created, not yet answering: scheduling,
    start, `ready_after`) existed. The lab imposes these on whatever waits for
    its pods."""
    starting = [
        (float(r["since"]), float(r["at"]))
        for r in records
        if r["type"] == "pod" and r.get("answering") and "since" in r
    ]
    return [
        (max(a, lo), min(b, hi))
        for a, b in action_spans(journal)
        for lo, hi in starting
        if min(b, hi) > max(a, lo)
    ]


def union(spans: list[tuple[float, float]]) -> float:
    """Seconds covered by `spans`, overlaps counted once."""
    total, reach = 0.0, float("-inf")
    for lo, hi in sorted(spans):
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


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
        ratios = [x.wall / (x.lab_start + x.imposed) for x in done]
        note = f"; {failed} failed" if failed else ""
        pods = statistics.median(x.starting for x in done)
        yield (
            f"drill_overhead_ratio_{tier}",
            figure_text(ratios, "x")
            + f" (wall {statistics.median(x.wall for x in done):.1f} s,"
            f" lab start {statistics.median(x.lab_start for x in done):.1f} s,"
            f" lab waits {statistics.median(x.imposed for x in done):.1f} s"
            + (f" of which pods starting in actions {pods:.1f} s" if pods else "")
            + f"{note})",
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
