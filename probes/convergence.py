"""The streak rule: does one batch count toward convergence, or reset the streak?

A batch of 50 answers cannot show a 50/50 split within +-10%: a correct split lands
outside that band in about 12% of batches (31/19 is already out), so a raw band
resets a streak of three by chance in about a third of waits.  The rule here asks the
statistics instead: a batch resets the streak only when the data show the split is
wrong, i.e. `stats.split_verdict` at the configured confidence says `outside` (some
destination's Wilson interval lies entirely outside its band).  `within` and
`inconclusive` batches both count.  A batch also resets the streak when nothing it
got names a pod of the workload, or when its failed requests exceed
`max_error_rate`, or when a latency bound of the probe breaks (`probes.latency`).
When the expected split names `error` (probes.tally.ERROR), failed requests are a
destination like the others: `{"error": 1.0}` converges on batches where every
request fails, and no error budget applies.

Whether the converged run's split is right is then judged on all its answers pooled
(and topped up while inconclusive) by `probes.measure.judge_split`, at the same
confidence.  docs/sampling.md gives the rates these rules have by chance.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from probes import latency, stats
from probes.latency import Bounds
from probes.tally import ERROR, Tally

__all__ = ["BatchJudgement", "StreakRule"]


@dataclass(frozen=True)
class BatchJudgement:
    """Whether a batch counts toward convergence, and the statistics' word on it."""

    passed: bool
    verdict: str
    """`within`, `inconclusive` or `outside` from the split statistics, or
    `no_answer` / `errors` when the batch was not judged on its split, `latency`
    when a latency bound broke (`problems` says how)."""
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreakRule:
    """The rule's settings: a probe's arguments."""

    expected: Mapping[str, float]
    by: str
    tolerance: float
    confidence: float
    max_error_rate: float
    latency: Bounds = field(default_factory=lambda: ({}, {}))

    def judge(self, counted: Tally | None) -> BatchJudgement:
        """Judge one batch (None: nothing known answered)."""
        if counted is None:
            return BatchJudgement(False, "no_answer")
        errors = ERROR in self.expected  # failed requests are a destination
        counts = counted.by(self.by, errors=errors)
        if not sum(counts.values()):
            return BatchJudgement(False, "no_answer")
        if (
            not errors
            and counted.requests
            and counted.error_total / counted.requests > self.max_error_rate
        ):
            return BatchJudgement(False, "errors")
        verdict = stats.split_verdict(
            counts, self.expected, self.tolerance, self.confidence
        )["verdict"]
        if verdict != "outside" and any(self.latency):
            found = latency.bound_problems(
                counted.latencies.get(self.by, {}), self.by, self.latency
            )
            if found:
                return BatchJudgement(False, "latency", tuple(found))
        return BatchJudgement(verdict != "outside", verdict)
