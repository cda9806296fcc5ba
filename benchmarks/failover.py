"""Failover in the lab: how long each tier's drill takes to see traffic move and return.

Runs `chaos run experiments/<tier>.json` as a user does (tests/drills/drilling.py's
`run_drill`: a fresh temporary HOME, MESHDRILL_LAB_DIR and MESHDRILL_JOURNALS_DIR
per run, so each run starts its own lab with the tier's shipped topology and its
timing) and reads the verdict control's `journal["meshdrill"]["phases"]`:

- time to failover: `transition_seconds` of the method's first `wait_for_split`
  (from that probe's start, right after the fault, to the first batch of the
  settled run of batches: its resolution is one batch);
- time to recover: the same for the method's last `wait_for_split` (from its start:
  right after the repair, or, in zone_failover, after the failover probe ended);
- transition errors: requests that failed during each transition;
- wall time of the whole `chaos run` (lab start, steady state, method, rollbacks,
  restore, lab stop), its exit code, and the part of it spent in the meshdrill
  probes (the phases' `duration`: sampling, mostly).

Figures depend on the topology's `timing` (pod readiness, endpoint propagation),
printed per tier; `--timing ready_after=0.3,propagation=0.3` runs a copy of each
topology with other timing instead. Default: region_outage (ingress HTTP sampling)
and waypoint_failover (exec sampling), 3 runs each, about 2 minutes; `--tiers all`
runs all seven experiments (about 4 minutes per repeat).

    .venv/bin/python benchmarks/failover.py [--tiers region_outage,zone_failover|all]
        [--repeats 3] [--timing ready_after=0.3,propagation=0.3]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import figures
from rich.console import Console

sys.path.insert(0, str(figures.ROOT))  # tests.drills.drilling is not installed

from chaosext.lab import runtime, topology
from tests.drills import drilling

EXPERIMENTS = figures.ROOT / "experiments"
DEFAULT_TIERS = "region_outage,waypoint_failover"
RUN_TIMEOUT = 300.0


@dataclass
class Run:
    """One `chaos run` of a tier, as its exit code and journal tell it."""

    tier: str
    index: int
    code: int | str
    wall: float
    probes: float
    verdict: str
    failover: float | None
    recover: float | None
    failover_errors: int | None
    recover_errors: int | None
    reasons: list[str]


def tiers(text: str) -> list[str]:
    known = sorted(p.stem for p in EXPERIMENTS.glob("*.json"))
    if text == "all":
        return known
    chosen = [t.strip().removesuffix(".json") for t in text.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown tier(s) {', '.join(unknown) or text!r}; known: {', '.join(known)}"
        )
    return chosen


def timing(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in ("ready_after", "propagation", "terminate_after"):
            raise argparse.ArgumentTypeError(
                f"{part!r}: use ready_after=S, propagation=S, terminate_after=S"
            )
        out[key] = float(value)
    return out


def lab_topology(tier: str) -> str:
    """The shipped topology the tier's experiment runs against."""
    data = json.loads((EXPERIMENTS / f"{tier}.json").read_text())
    return str(data["configuration"]["lab_topology"])


def errors(phase: dict[str, Any]) -> int | None:
    value = phase.get("transition_errors")
    if isinstance(value, dict):
        return sum(int(v) for v in value.values())
    return None if value is None else int(value)


def run_tier(tier: str, index: int, changed: dict[str, float]) -> Run:
    """One `chaos run` in a fresh temporary directory; its lab is stopped after."""
    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as name:
        tmp = Path(name)
        variables = {}
        if changed:
            variant = drilling.topology_variant(lab_topology(tier), tmp, timing=changed)
            variables["lab_topology"] = str(variant)
        began = time.perf_counter()
        try:
            drill = drilling.run_drill(
                f"{tier}.json", tmp, variables=variables, timeout=RUN_TIMEOUT
            )
            code: int | str = drill.code
            verdict = drill.verdict
        except subprocess.TimeoutExpired:
            code, verdict = "timeout", {}
        finally:
            wall = time.perf_counter() - began
            runtime.stop_lab(tmp / "lab")  # only if the run left its lab behind
    waits = [
        p
        for p in verdict.get("phases", [])
        if p["name"].startswith("method: ") and p.get("probe") == "wait_for_split"
    ]
    probes = sum(float(p.get("duration") or 0.0) for p in verdict.get("phases", []))
    first = waits[0] if waits else {}
    last = waits[-1] if len(waits) > 1 else {}
    return Run(
        tier,
        index,
        code,
        wall,
        probes,
        str(verdict.get("verdict", "-")),
        first.get("transition_seconds"),
        last.get("transition_seconds"),
        errors(first) if first else None,
        errors(last) if last else None,
        [str(r) for r in verdict.get("reasons", [])],
    )


def spread(values: list[float | None]) -> str:
    measured = [v for v in values if v is not None]
    if not measured:
        return "-"
    s = figures.Spread.of(measured)
    missing = len(values) - len(measured)
    return f"{s.median:.2f} / {s.p90:.2f}" + (f" ({missing} none)" if missing else "")


def timing_of(tier: str, changed: dict[str, float]) -> str:
    t = topology.load(lab_topology(tier)).timing
    ready = changed.get("ready_after", t.ready_after)
    propagation = changed.get("propagation", t.propagation)
    return f"{ready:g} / {propagation:g}"


def print_runs(out: Console, runs: list[Run]) -> None:
    table = figures.table(
        "tier",
        "run",
        "exit",
        "verdict",
        "wall s",
        "probes s",
        "failover s",
        "recover s",
        "errors (failover / recover)",
        left=2,
    )
    for run in runs:
        table.add_row(
            run.tier,
            str(run.index),
            str(run.code),
            run.verdict,
            figures.secs(run.wall),
            figures.secs(run.probes),
            figures.secs(run.failover),
            figures.secs(run.recover),
            f"{run.failover_errors if run.failover_errors is not None else '-'} / "
            f"{run.recover_errors if run.recover_errors is not None else '-'}",
        )
    figures.print_table(out, "every run", table)
    for run in runs:
        for reason in run.reasons:
            out.print(f"{run.tier} run {run.index}: {reason}", soft_wrap=True)


def print_summary(
    out: Console, by_tier: dict[str, list[Run]], changed: dict[str, float]
) -> None:
    table = figures.table(
        "tier",
        "topology",
        "ready / propagation s",
        "exits",
        "wall s",
        "failover s",
        "recover s",
        "errors (max)",
        left=2,
    )
    for tier, runs in by_tier.items():
        errs = [
            e
            for r in runs
            for e in (r.failover_errors, r.recover_errors)
            if e is not None
        ]
        table.add_row(
            tier,
            lab_topology(tier),
            timing_of(tier, changed),
            ",".join(str(r.code) for r in runs),
            spread([r.wall for r in runs]),
            spread([r.failover for r in runs]),
            spread([r.recover for r in runs]),
            str(max(errs)) if errs else "-",
        )
    figures.print_table(
        out, "per tier, median / p90 (transition seconds from the journal)", table
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tiers",
        type=tiers,
        default=tiers(DEFAULT_TIERS),
        help=f"comma-separated experiment names, or 'all' (default {DEFAULT_TIERS})",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per tier")
    parser.add_argument(
        "--timing",
        type=timing,
        default={},
        help="run copies of the topologies with this timing, e.g. "
        "ready_after=0.3,propagation=0.3",
    )
    args = parser.parse_args()
    out = figures.console()
    figures.print_machine(out, "failover: chaos run per tier against the lab")
    by_tier: dict[str, list[Run]] = {}
    for tier in args.tiers:
        for index in range(1, args.repeats + 1):
            by_tier.setdefault(tier, []).append(run_tier(tier, index, args.timing))
    print_runs(out, [run for runs in by_tier.values() for run in runs])
    print_summary(out, by_tier, args.timing)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
