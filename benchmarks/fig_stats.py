"""The streak rule's and the verdict's chance behaviour on a correct 50/50 split.

- `samples_for_99pct_verdict`: the fewest answers at which a correct 50/50 split
  (tolerance 0.1, confidence 0.95: the 50/50 tiers' defaults) gets the verdict
  `within` with probability >= 99%, exactly (binomial sums over
  `probes.stats.split_verdict` itself).
- `batch_reset_rate_50_50` and `raw_band_reset_rate_50_50`: the chance that one
  batch of 50 answers from a correct split resets the streak, under the
  statistical rule (probes.convergence: shown `outside`) and under the old raw
  +-10% band; exact.
- `false_fail_rate_50_50`: waits simulated with the real loop (probes.wait_loop)
  on a source that answers exactly 50/50 at random, with the experiments' defaults
  (batch 50, 3 in a row, tolerance 0.1, confidence 0.95, max_samples 2000): the
  share of waits that do not end `within` (a reset streak that never ends before
  the deadline, or a pooled verdict that is not `within`), with its 95% upper bound.
"""

import math
import random
from collections.abc import Iterator

from measuring import figure_text

from chaosext.locality import Locality
from probes import stats
from probes.sampling import Sample
from probes.wait_loop import Settings, Wait

EVEN = {"a": 0.5, "b": 0.5}
TOLERANCE, CONFIDENCE, BATCH = 0.1, 0.95, 50


def binomial_pmf(n: int) -> list[float]:
    return [
        math.exp(
            math.lgamma(n + 1)
            - math.lgamma(k + 1)
            - math.lgamma(n - k + 1)
            + n * math.log(0.5)
        )
        for k in range(n + 1)
    ]


def verdict(k: int, n: int) -> str:
    counts = {"a": k, "b": n - k}
    return stats.split_verdict(counts, EVEN, TOLERANCE, CONFIDENCE)["verdict"]


def p_within(n: int) -> float:
    """P(verdict within) for n answers of a correct 50/50 split."""
    pmf = binomial_pmf(n)
    half = n // 2
    total = 0.0
    for k in range(half, n + 1):  # within is symmetric and contiguous around n/2
        if verdict(k, n) != "within":
            break
        total += pmf[k] if 2 * k == n else 2 * pmf[k]
    return total


def samples_for(probability: float) -> int:
    low, high = 1, 4096
    while p_within(high) < probability:
        high *= 2
    while high - low > 1:  # P(within) grows with n (up to parity wobble)
        mid = (low + high) // 2
        if p_within(mid) >= probability:
            high = mid
        else:
            low = mid
    return high


def reset_rate(raw_band: bool) -> float:
    pmf = binomial_pmf(BATCH)
    if raw_band:
        return sum(
            p for k, p in enumerate(pmf) if abs(k / BATCH - 0.5) > TOLERANCE + 1e-12
        )
    return sum(p for k, p in enumerate(pmf) if verdict(k, BATCH) == "outside")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _EvenSource:
    """Answers 50/50 at random; each batch takes 0.05 s on the fake clock."""

    def __init__(self, rng: random.Random, clock: _Clock) -> None:
        self.rng, self.clock = rng, clock

    def sample(self, count: int) -> Sample:
        start = self.clock.now
        self.clock.now += 0.05
        answers = [self.rng.choice(("pod-a", "pod-b")) for _ in range(count)]
        times = [start + 0.05 * (i + 1) / count for i in range(count)]
        return Sample(
            answers=answers,
            answer_times=times,
            total=count,
            started_at=start,
            finished_at=self.clock.now,
        )

    def describe(self) -> str:
        return "simulated 50/50"


class _Resolver:
    namespace, contexts, label_selector = "default", ("a", "b"), ""

    def resolve(self, hostname: str) -> Locality | None:
        where = hostname[-1]
        return Locality(where, "", "", "", "", "", hostname)


def false_fails(runs: int, seed: int = 7) -> tuple[int, list[int]]:
    rng = random.Random(seed)
    failed, used = 0, []
    for _ in range(runs):
        clock = _Clock()
        wait = Wait(
            Settings(expected=EVEN, deadline=60.0),
            _EvenSource(rng, clock),
            _Resolver(),
            clock=clock,
            wall=clock,
        )
        report = wait.run()
        failed += report["verdict"] != "within"
        used.append(int(report.get("requests") or 0))
    return failed, used


def figures(quick: bool) -> Iterator[tuple[str, str]]:
    yield (
        "samples_for_99pct_verdict",
        f"{samples_for(0.99)} answers (50/50 +-0.1 at 95%)",
    )
    yield "batch_reset_rate_50_50", f"{reset_rate(raw_band=False):.2e} per batch of 50"
    yield (
        "raw_band_reset_rate_50_50",
        f"{reset_rate(raw_band=True):.3f} per batch of 50 (old rule)",
    )
    runs = 1000 if quick else 10000
    failed, used = false_fails(runs)
    bound = 1 - 0.05 ** (1 / runs) if failed == 0 else None
    text = f"{failed}/{runs} waits"
    text += f" (95% upper bound {bound:.2e})" if bound is not None else ""
    yield "false_fail_rate_50_50", text
    yield "samples_per_50_50_wait", figure_text([float(u) for u in used], "answers", 0)
