"""The waiting loop of `wait_for_split`, with its source, resolver and clocks injected.

`Wait.run()` polls batches until `consecutive` batches in a row pass the streak rule
(probes.convergence) or the deadline passes.  The deadline is on starting batches,
on a monotonic clock: a batch that starts before it counts even if it ends after
it; none starts after it.  Times reported in the output (`started_at`, the
transition's `transition_at`) are on the wall clock the samplers stamp answers with.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from probes import latency, measure, transition
from probes.convergence import BatchJudgement, StreakRule
from probes.latency import Bounds
from probes.progress import Progress, WaitStatus
from probes.tally import Resolver, Tally

__all__ = ["Settings", "Wait"]


@dataclass(frozen=True)
class Settings:
    """The probe's checked arguments."""

    expected: dict[str, float]
    by: str = "cluster"
    tolerance: float = 0.1
    confidence: float = 0.95
    batch: int = 50
    consecutive: int = 3
    deadline: float = 60.0
    max_samples: int = 2000
    max_error_rate: float = 0.0
    max_transition_errors: int | None = None
    latency: Bounds = field(default_factory=lambda: ({}, {}))
    """(at least, below) seconds for a destination's median (`probes.latency`)."""
    hold: float = 0.0
    """Seconds the passing streak must span (first batch's start to last batch's
    end), on top of `consecutive` batches: a regime that must last, not a blip."""

    @property
    def rule(self) -> StreakRule:
        return StreakRule(
            self.expected,
            self.by,
            self.tolerance,
            self.confidence,
            self.max_error_rate,
            self.latency,
        )


@dataclass
class _Batch:
    started: float  # wall clock
    ended: float
    counted: Tally | None
    judged: BatchJudgement
    note: str | None


@dataclass
class Wait:
    """One wait for a split; `run()` returns the probe's report."""

    settings: Settings
    source: measure.Sampler
    resolver: Resolver
    clock: Callable[[], float] = time.monotonic
    """Monotonic seconds, for the deadline."""
    wall: Callable[[], float] = time.time
    """Wall-clock seconds, as the samplers stamp answers."""
    progress: Progress | None = None
    title: str = ""
    between: Callable[[], None] = lambda: None
    """Called before each batch; raises to end the wait (the run was stopped)."""
    _batches: list[_Batch] = field(default_factory=list)

    def run(self) -> dict[str, Any]:
        s = self.settings
        started, started_wall = self.clock(), self.wall()
        streak: list[_Batch] = []
        errors: Counter[str] = Counter()
        while not self._held(streak) and self.clock() - started < s.deadline:
            self.between()
            batch = self._take()
            if batch.judged.passed:
                streak.append(batch)
            else:
                streak = []
                errors.update(_errors(batch, s.batch))
            self._show(started, streak)
        if not self._held(streak):
            report = self._timed_out(errors, started_wall, started, streak)
            self._close(report["reasons"][0])
            return report
        report = self._converged(streak, errors, started_wall)
        self._close(
            f"{self.title}: converged after {len(self._batches)} batches;"
            f" transition {report['transition_seconds']} s; verdict"
            f" {report['verdict']}"
        )
        return report

    # -- steps -----------------------------------------------------------------

    def _held(self, streak: list[_Batch]) -> bool:
        """`consecutive` passing batches in a row, spanning `hold` seconds."""
        if len(streak) < self.settings.consecutive:
            return False
        return streak[-1].ended - streak[0].started >= self.settings.hold

    def _take(self) -> _Batch:
        started = self.wall()
        try:
            counted: Tally | None = measure.measure(
                self.source,
                self.resolver,
                self.settings.by,
                self.settings.batch,
                errors=measure.expects_errors(self.settings.expected),
            )
            note = None
        except measure.NoAnswer as exc:  # nothing (known) answered yet: still failing
            counted, note = None, str(exc)
        judged = self.settings.rule.judge(counted)
        if judged.problems:
            note = "; ".join(judged.problems)
        batch = _Batch(started, self.wall(), counted, judged, note)
        self._batches.append(batch)
        return batch

    def _converged(
        self, streak: list[_Batch], errors: Counter[str], started_wall: float
    ) -> dict[str, Any]:
        s = self.settings
        moved = self._transition(streak, started_wall)
        judged_on = self._after_transition(streak, moved)
        pooled = judged_on[0].counted
        assert pooled is not None  # a passing batch has answers
        for more in judged_on[1:]:
            assert more.counted is not None
            pooled = pooled.add(more.counted)
        pooled, judged = measure.judge_split(
            self.source,
            self.resolver,
            s.by,
            pooled,
            s.expected,
            s.tolerance,
            s.confidence,
            s.max_samples,
        )
        report = measure.report(
            "wait_for_split", self.source, s.by, pooled, judged, started_wall
        )
        report["duration"] = round(self.wall() - started_wall, 3)
        report.update(
            converged=True,
            transition_errors=dict(errors),
            transition_error_total=sum(errors.values()),
            batches=self._timeline(started_wall),
            **moved,
        )
        if (
            s.max_transition_errors is not None
            and report["transition_error_total"] > s.max_transition_errors
        ):
            report.update(verdict="outside", passed=False)
            report.setdefault("reasons", []).append(
                f"transition errors: {report['transition_error_total']}"
                f" {report['transition_errors']} above the budget of"
                f" {s.max_transition_errors}"
            )
        report = latency.apply_bounds(
            report, pooled.latencies.get(s.by, {}), s.by, s.latency
        )
        return measure.apply_error_budget(report, pooled, s.max_error_rate)

    def _after_transition(
        self, streak: list[_Batch], moved: dict[str, Any]
    ) -> list[_Batch]:
        """The batches the verdict pools: the streak, unless its first batch began
        in the old regime (answers timed before the transition: stragglers of the
        split being left, which would otherwise cost a top-up of hundreds of
        answers to outweigh). Then one more batch is taken and, if it passes the
        streak rule, it replaces that first batch: the verdict judges as many
        batches, all of the new regime. If it does not pass, every batch is
        pooled, it too (when it has answers). A straddling batch with errors
        stays in (its errors count against the error budget)."""
        first = streak[0]
        if moved["transition_measured_by"] != "answer" or first.counted is None:
            return streak
        at = float(moved["transition_at"])
        if first.counted.error_total or not any(
            t < at for t, _ in first.counted.events
        ):
            return streak
        self.between()
        fresh = self._take()
        if fresh.judged.passed:
            return [*streak[1:], fresh]
        return [*streak, fresh] if fresh.counted is not None else streak

    def _transition(self, streak: list[_Batch], started_wall: float) -> dict[str, Any]:
        """transition_seconds: from the wait's start (the fault's completion) to
        the first answer of the new regime (probes.transition)."""
        s = self.settings
        first = self._batches.index(streak[0])
        before = self._batches[first - 1] if first else None
        prior = before if before is not None and before.counted else None
        changed_inside = prior is not None
        window = ([prior] if prior is not None else []) + streak
        if before is None:
            since = started_wall
        else:
            since = before.started if changed_inside else before.ended
        found = transition.locate(
            [e for b in window if b.counted for e in b.counted.events],
            s.expected,
            tolerance=s.tolerance,
            max_error_rate=s.max_error_rate,
            since=since,
            changed_inside=changed_inside,
        )
        batch_seconds = round(streak[0].started - started_wall, 3)
        if found is None:  # a sampler without answer times: the batch's start
            return {
                "transition_seconds": batch_seconds,
                "transition_at": streak[0].started,
                "transition_resolution_seconds": round(
                    streak[0].ended - streak[0].started, 3
                ),
                "transition_measured_by": "batch",
                "transition_batch_seconds": batch_seconds,
            }
        return {
            "transition_seconds": round(found.at - started_wall, 3),
            "transition_at": found.at,
            "transition_resolution_seconds": round(found.resolution, 4),
            "transition_measured_by": "answer",
            "transition_batch_seconds": batch_seconds,
        }

    def _timed_out(
        self,
        errors: Counter[str],
        started_wall: float,
        started: float,
        streak: list[_Batch],
    ) -> dict[str, Any]:
        s = self.settings
        timeline = self._timeline(started_wall)
        last = timeline[-1] if timeline else {}
        seen = last.get("counts") or last.get("note") or "nothing"
        if last.get("errors"):
            seen = f"{seen} and {last['errors']} errors"
        if last.get("verdict") == "latency":
            seen = f"{seen}; {last.get('note')}"
        while_waiting = f"; errors while waiting: {dict(errors)}" if errors else ""
        wanted = f"{s.consecutive} consecutive batches of {s.batch}"
        if s.hold:
            wanted += f" spanning {s.hold:g} s"
            if streak:
                span = streak[-1].ended - streak[0].started
                while_waiting += f"; the last streak spanned {span:.1f} s"
        return {
            "probe": "wait_for_split",
            "source": self.source.describe(),
            "by": s.by,
            "expected": s.expected,
            "verdict": "timeout",
            "passed": False,
            "converged": False,
            "transition_seconds": None,
            "transition_errors": dict(errors),
            "transition_error_total": sum(errors.values()),
            "reasons": [
                f"no {wanted} matched {s.expected} within {s.deadline:g} s;"
                f" last batch: {seen}"
                f"{while_waiting}"
            ],
            "batches": timeline,
            "started_at": started_wall,
            "duration": round(self.clock() - started, 3),
        }

    # -- output ----------------------------------------------------------------

    def _timeline(self, started_wall: float) -> list[dict[str, Any]]:
        points = []
        for b in self._batches:
            point: dict[str, Any] = {
                "t": round(b.started - started_wall, 3),
                "passed": b.judged.passed,
                "verdict": b.judged.verdict,
                "ended": round(b.ended - started_wall, 3),
            }
            if b.counted is not None:
                point["counts"] = b.counted.by(self.settings.by)
                point["errors"] = b.counted.error_total
            if b.note:
                point["note"] = b.note
            points.append(point)
        return points

    def _show(self, started: float, streak: list[_Batch]) -> None:
        if self.progress is None or not self._batches:
            return
        s = self.settings
        last = self._batches[-1]
        expected_errors = measure.expects_errors(s.expected)  # shown as a share
        counts = last.counted.by(s.by, errors=expected_errors) if last.counted else {}
        total = sum(counts.values())
        failed = last.counted.error_total if last.counted else 0
        self.progress.update(
            WaitStatus(
                title=self.title,
                elapsed=self.clock() - started,
                deadline=s.deadline,
                batches=len(self._batches),
                streak=len(streak),
                consecutive=s.consecutive,
                shares={d: c / total for d, c in counts.items()} if total else {},
                errors=0 if expected_errors else failed,
                verdict=last.judged.verdict,
                hold=s.hold,
                held=streak[-1].ended - streak[0].started if streak else 0.0,
            )
        )

    def _close(self, outcome: str) -> None:
        if self.progress is not None:
            self.progress.close(outcome)


def _errors(batch: _Batch, size: int) -> Counter[str]:
    """The transition errors a failed batch adds."""
    if batch.counted is None:
        return Counter({"no_answer": size})
    return Counter(batch.counted.errors)
