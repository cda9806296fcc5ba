"""Probe: wait until traffic settles on a split, and measure how long it took."""

import time
from collections import Counter
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations
from probes import arguments, measure, predicted
from probes.source import resolver_for, source_from
from probes.tally import Tally

__all__ = ["wait_for_split"]


def wait_for_split(
    expected: dict[str, float],
    source: dict[str, Any],
    workload: dict[str, Any],
    by: str = "cluster",
    tolerance: float = 0.1,
    confidence: float = 0.95,
    batch: int = 50,
    consecutive: int = 3,
    deadline: float = 60.0,
    max_samples: int = 2000,
    max_error_rate: float = 0.0,
    max_transition_errors: int | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until `consecutive` batches in a row match `expected`; time the change.

    Polls batches of `batch` requests (as Istio's own locality tests do: 50 per
    batch, 3 in a row) until `consecutive` consecutive batches each have every
    destination's share within `tolerance` of `expected` and no more than
    `max_error_rate` failed requests, or until `deadline` seconds have passed.
    `transition_seconds` is the time from the probe's start (right after the
    fault or the repair) to the start of the first batch of that run; the errors
    seen before it are the client errors of the transition; more than
    `max_transition_errors` of them (when given) makes the verdict `outside`. The
    pooled batches of the run (topped up to `max_samples` when needed) then get
    the statistical verdict of `hostname_split`.

    Put it right after the action whose effect it waits for. The verdict control
    fails the run when it does not pass (Chaos Toolkit ignores tolerances in the
    method). Returns everything `hostname_split` does plus `converged`,
    `transition_seconds`, `transition_errors`, and the per-batch timeline.
    Fails (ActivityFailed) only on invalid arguments or an unusable source.
    """
    started = time.time()
    if annotations.is_dry_run(configuration):
        return {"probe": "wait_for_split", "verdict": "skipped", "dry_run": True}
    expected = predicted.expected_split(  # "predicted": read once, at the start
        expected, source, workload, by, configuration, secrets
    )
    tolerance = arguments.real("tolerance", tolerance)
    confidence = arguments.real("confidence", confidence)
    batch = arguments.integer("batch", batch, low=1)
    consecutive = arguments.integer("consecutive", consecutive, low=1)
    deadline = arguments.real("deadline", deadline)
    if deadline <= 0:
        raise ActivityFailed(f"argument 'deadline' must be > 0, got {deadline:g}")
    max_samples = arguments.integer("max_samples", max_samples, low=1)
    max_error_rate = arguments.real("max_error_rate", max_error_rate, low=0.0)
    if max_transition_errors is not None and max_transition_errors != "":
        max_transition_errors = arguments.integer(
            "max_transition_errors", max_transition_errors, low=0
        )
    else:
        max_transition_errors = None
    src = source_from(source, configuration, secrets)
    resolver = resolver_for(workload, configuration, secrets)
    expected = measure.check_split(
        expected, tolerance, confidence, configuration, secrets
    )
    timeline: list[dict[str, Any]] = []
    streak: list[Tally] = []
    streak_start = started
    transition_errors: Counter[str] = Counter()
    while len(streak) < consecutive and time.time() - started < deadline:
        batch_start = time.time()
        try:
            counted: Tally | None = measure.measure(src, resolver, by, batch)
            note = None
        except measure.NoAnswer as exc:  # nothing (known) answered yet: still failing
            counted, note = None, str(exc)
        ok = counted is not None and _batch_passes(
            counted, by, expected, tolerance, max_error_rate
        )
        timeline.append(_point(batch_start - started, counted, by, ok, note))
        if ok and counted is not None:
            streak_start = batch_start if not streak else streak_start
            streak.append(counted)
            continue
        streak = []
        if counted is None:
            transition_errors["no_answer"] += batch
        else:
            transition_errors.update(counted.errors)
    if len(streak) < consecutive:
        return _timed_out(
            src,
            by,
            expected,
            timeline,
            transition_errors,
            started,
            deadline,
            consecutive,
            batch,
        )
    pooled = streak[0]
    for more in streak[1:]:
        pooled = pooled.add(more)
    pooled, judged = measure.judge_split(
        src, resolver, by, pooled, expected, tolerance, confidence, max_samples
    )
    report = measure.report("wait_for_split", src, by, pooled, judged, started)
    report.update(
        converged=True,
        transition_seconds=round(streak_start - started, 3),
        transition_errors=dict(transition_errors),
        transition_error_total=sum(transition_errors.values()),
        batches=timeline,
    )
    if (
        max_transition_errors is not None
        and report["transition_error_total"] > max_transition_errors
    ):
        report.update(verdict="outside", passed=False)
        report.setdefault("reasons", []).append(
            f"transition errors: {report['transition_error_total']}"
            f" {report['transition_errors']} above the budget of"
            f" {max_transition_errors}"
        )
    return measure.apply_error_budget(report, pooled, max_error_rate)


def _batch_passes(
    counted: Tally,
    by: str,
    expected: dict[str, float],
    tolerance: float,
    max_error_rate: float,
) -> bool:
    """Istio's per-batch rule: each share within tolerance of expected, no errors."""
    counts = counted.by(by)
    total = sum(counts.values())
    if total == 0:
        return False
    if counted.requests and counted.error_total / counted.requests > max_error_rate:
        return False
    for dest in set(counts) | set(expected):
        if abs(counts.get(dest, 0) / total - expected.get(dest, 0.0)) > tolerance:
            return False
    return True


def _point(
    t: float, counted: Tally | None, by: str, ok: bool, note: str | None
) -> dict[str, Any]:
    point: dict[str, Any] = {"t": round(t, 3), "passed": ok}
    if counted is not None:
        point["counts"] = counted.by(by)
        point["errors"] = counted.error_total
    if note:
        point["note"] = note
    return point


def _timed_out(
    src: Any,
    by: str,
    expected: dict[str, float],
    timeline: list[dict[str, Any]],
    transition_errors: Counter[str],
    started: float,
    deadline: float,
    consecutive: int,
    batch: int,
) -> dict[str, Any]:
    last = timeline[-1] if timeline else {}
    seen = last.get("counts") or last.get("note") or "nothing"
    if last.get("errors"):
        seen = f"{seen} and {last['errors']} errors"
    while_waiting = ""
    if transition_errors:
        while_waiting = f"; errors while waiting: {dict(transition_errors)}"
    return {
        "probe": "wait_for_split",
        "source": src.describe(),
        "by": by,
        "expected": expected,
        "verdict": "timeout",
        "passed": False,
        "converged": False,
        "transition_seconds": None,
        "transition_errors": dict(transition_errors),
        "transition_error_total": sum(transition_errors.values()),
        "reasons": [
            f"no {consecutive} consecutive batches of {batch} matched {expected}"
            f" within {deadline:g} s; last batch: {seen}{while_waiting}"
        ],
        "batches": timeline,
        "started_at": started,
        "duration": round(time.time() - started, 3),
    }
