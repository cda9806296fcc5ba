"""Split statistics: Wilson intervals, split and all-in verdicts.

Pure functions on plain counts (no I/O), so the probes, the verdict control and the
lab tests share one definition of "the traffic split is right".

Verdicts are three-valued: ``within`` (the data show the expectation holds at the
asked confidence), ``outside`` (the data show it does not), ``inconclusive`` (the
sample is too small to tell; ``needed_samples`` says how many would do).
"""

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Literal, TypedDict

Verdict = Literal["within", "outside", "inconclusive"]

MAX_NEEDED_SAMPLES = 100_000
"""``needed_samples`` larger than this are reported as ``None`` (not worth sampling)."""

_SHARE_SUM_SLACK = 1e-6


class SplitResult(TypedDict):
    """What :func:`split_verdict` reports (JSON-serialisable)."""

    total: int
    counts: dict[str, int]
    shares: dict[str, float]
    intervals: dict[str, list[float]]
    expected: dict[str, float]
    tolerance: float
    confidence: float
    verdict: Verdict
    needed_samples: int | None
    reasons: list[str]


class AllInResult(TypedDict):
    """What :func:`all_in` reports (JSON-serialisable)."""

    total: int
    target: str
    inside: int
    outside: int
    counts: dict[str, int]
    leakage: float
    leakage_lower_bound: float
    leakage_upper_bound: float
    max_leakage: float
    confidence: float
    verdict: Verdict
    needed_samples: int | None
    reasons: list[str]


# -- Wilson score intervals ----------------------------------------------------


def _z(confidence: float, *, two_sided: bool = True) -> float:
    tail = (1.0 - confidence) / 2.0 if two_sided else 1.0 - confidence
    return NormalDist().inv_cdf(1.0 - tail)


def _wilson(share: float, n: int, z: float) -> tuple[float, float]:
    """Wilson score bounds for an observed ``share`` of ``n`` trials."""
    if n <= 0:
        return 0.0, 1.0
    z2n = z * z / n
    centre = (share + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(share * (1.0 - share) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    lo = 0.0 if share <= 0.0 else min(max(0.0, centre - half), share)
    hi = 1.0 if share >= 1.0 else max(min(1.0, centre + half), share)
    return lo, hi


def wilson_interval(
    successes: int, n: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Two-sided Wilson score interval for ``successes`` out of ``n`` trials.

    ``n == 0`` gives ``(0.0, 1.0)``: nothing is known.
    """
    _check_confidence(confidence, low=0.0)
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"successes: need 0 <= successes <= n, got {successes}/{n}")
    share = successes / n if n else 0.0
    return _wilson(share, n, _z(confidence))


class _Decisive:
    """Predicate on an interval: inside the band ``[lo, hi]`` or entirely outside."""

    def __init__(self, lo: float, hi: float, *, inside: bool) -> None:
        self.lo, self.hi, self.inside = lo, hi, inside

    def __call__(self, lo: float, hi: float) -> bool:
        if self.inside:
            return self.lo <= lo and hi <= self.hi
        return hi < self.lo or lo > self.hi


def _needed(share: float, n: int, z: float, decisive: _Decisive) -> int | None:
    """Smallest sample size above ``n`` (not decisive) where ``share``'s interval is.

    Wilson intervals at a fixed share are nested and shrink as n grows: the interval
    is ``{p : (share - p)**2 <= z**2 p (1 - p) / n}``, so a band edge ``b`` (other
    than 0 or 1) leaves it once ``n >= z**2 b (1 - b) / (share - b)**2`` (strictly
    greater for "entirely outside").  The answer is that bound for the binding edge;
    it is computed by bisection on the real interval so float rounding at the edge
    cannot make it off by one.  ``None`` if not decisive by ``MAX_NEEDED_SAMPLES``.
    """
    if not decisive(*_wilson(share, MAX_NEEDED_SAMPLES, z)):
        return None
    low, high = max(n, 0), MAX_NEEDED_SAMPLES
    while high - low > 1:  # invariant: not decisive at low, decisive at high
        mid = (low + high) // 2
        if decisive(*_wilson(share, mid, z)):
            high = mid
        else:
            low = mid
    return high


# -- split verdicts ------------------------------------------------------------


def split_verdict(
    counts: Mapping[str, int],
    expected: Mapping[str, float],
    tolerance: float,
    confidence: float = 0.95,
) -> SplitResult:
    """Judge observed ``counts`` per destination against ``expected`` shares.

    Every destination (expected or observed; unexpected ones expect 0) gets the band
    ``[expected - tolerance, expected + tolerance]`` clipped to [0, 1] and a Wilson
    interval at ``confidence``.  ``within`` iff every interval lies inside its band;
    ``outside`` iff some interval lies entirely outside its band; otherwise
    ``inconclusive``, with ``needed_samples``: the total sample size at which the
    verdict would be decisive if the observed shares stayed (see :func:`_needed`):
    the smallest such n of the destinations whose share is outside its band, else
    the largest n over all destinations; ``None`` if beyond ``MAX_NEEDED_SAMPLES``
    (e.g. a share exactly on a band edge).  With no samples, expected shares stand in.
    """
    _check_confidence(confidence)
    if not 0.0 < tolerance < 1.0:
        raise ValueError(f"tolerance: must be in (0, 1), got {tolerance!r}")
    expect = _check_shares(expected, "expected")
    observed = _check_counts(counts)
    names = list(expect) + sorted(d for d in observed if d not in expect)
    total = sum(observed.values())
    z = _z(confidence)

    shares: dict[str, float] = {}
    intervals: dict[str, list[float]] = {}
    inside: list[str] = []
    outside: list[str] = []
    needs_in: list[int | None] = []
    needs_out: list[int | None] = []
    for dest in names:
        count = observed.get(dest, 0)
        share = count / total if total else 0.0
        lo, hi = _wilson(share, total, z)
        shares[dest], intervals[dest] = share, [lo, hi]
        band_lo = max(0.0, expect.get(dest, 0.0) - tolerance)
        band_hi = min(1.0, expect.get(dest, 0.0) + tolerance)
        assumed = share if total else expect.get(dest, 0.0)
        if band_lo <= lo and hi <= band_hi:
            inside.append(dest)
        elif hi < band_lo or lo > band_hi:
            outside.append(dest)
        elif band_lo <= assumed <= band_hi:
            need_in = _Decisive(band_lo, band_hi, inside=True)
            needs_in.append(_needed(assumed, total, z, need_in))
        else:
            need_out = _Decisive(band_lo, band_hi, inside=False)
            needs_out.append(_needed(assumed, total, z, need_out))

    def describe(dest: str, word: str) -> str:
        lo, hi = intervals[dest]
        return (
            f"{dest}: {shares[dest]:.2f} [{lo:.2f}, {hi:.2f}] {word} "
            f"{expect.get(dest, 0.0):.2f}±{tolerance:.2f}"
        )

    needed: int | None = None
    verdict: Verdict
    if outside:
        verdict, reasons = "outside", [describe(d, "outside") for d in outside]
    elif len(inside) == len(names):
        verdict, reasons = "within", [describe(d, "inside") for d in inside]
    else:
        verdict = "inconclusive"
        reasons = [describe(d, "straddles") for d in names if d not in inside]
        if needs_out:  # only "outside" can be reached: the first to get there
            needed = min((n for n in needs_out if n is not None), default=None)
        elif None not in needs_in:  # "within" needs every straddler inside
            needed = max(n for n in needs_in if n is not None)
        reasons.append(
            f"need {needed} samples to decide (have {total})"
            if needed is not None
            else f"more than {MAX_NEEDED_SAMPLES} samples needed (have {total})"
        )
    return SplitResult(
        total=total,
        counts={d: observed.get(d, 0) for d in names},
        shares=shares,
        intervals=intervals,
        expected={d: expect.get(d, 0.0) for d in names},
        tolerance=tolerance,
        confidence=confidence,
        verdict=verdict,
        needed_samples=needed,
        reasons=reasons,
    )


# -- all traffic to one destination --------------------------------------------


def _leak_upper(leaks: int, n: int, confidence: float) -> float:
    """One-sided upper bound: exact Clopper-Pearson for 0 leaks, else Wilson."""
    if n == 0:
        return 1.0
    if leaks == 0:
        return 1.0 - float((1.0 - confidence) ** (1.0 / n))
    return _wilson(leaks / n, n, _z(confidence, two_sided=False))[1]


def samples_needed_for_leakage(max_leakage: float, confidence: float = 0.95) -> int:
    """Answers needed, all in target, to bound leakage by ``max_leakage``.

    The smallest n with ``1 - (1 - confidence) ** (1 / n) <= max_leakage``, i.e.
    ``n >= ln(1 - confidence) / ln(1 - max_leakage)`` (the "rule of three": about
    ``3 / max_leakage`` at 95%).
    """
    _check_confidence(confidence)
    if not 0.0 < max_leakage < 1.0:
        raise ValueError(f"max_leakage: must be in (0, 1), got {max_leakage!r}")
    n = max(1, math.ceil(math.log(1.0 - confidence) / math.log1p(-max_leakage)))
    while n > 1 and _leak_upper(0, n - 1, confidence) <= max_leakage:
        n -= 1
    while _leak_upper(0, n, confidence) > max_leakage:
        n += 1
    return n


def all_in(
    counts: Mapping[str, int],
    target: str,
    confidence: float = 0.95,
    max_leakage: float = 0.0,
) -> AllInResult:
    """Judge whether all answers come from ``target``.

    ``leakage_upper_bound`` is the one-sided upper bound of the leak rate at
    ``confidence``: exact Clopper-Pearson with no leak (``1 - (1-c)**(1/n)``, about
    3/n at 95%), one-sided Wilson otherwise; ``leakage_lower_bound`` is the one-sided
    Wilson lower bound.  With ``max_leakage == 0`` any leak is ``outside`` and no leak
    is ``within`` (the bound is reported, not judged).  With a budget, ``within`` iff
    the upper bound <= budget, ``outside`` iff the lower bound > budget, else
    ``inconclusive`` with ``needed_samples`` assuming the observed leak rate stays.
    No answers at all is ``inconclusive``.
    """
    _check_confidence(confidence)
    if not 0.0 <= max_leakage < 1.0:
        raise ValueError(f"max_leakage: must be in [0, 1), got {max_leakage!r}")
    if not target:
        raise ValueError("target: must name a destination")
    observed = _check_counts(counts)
    total = sum(observed.values())
    inside = observed.get(target, 0)
    leaks = total - inside
    rate = leaks / total if total else 0.0
    upper = _leak_upper(leaks, total, confidence)
    z1 = _z(confidence, two_sided=False)
    lower = _wilson(rate, total, z1)[0]
    summary = (
        f"{target}: {inside}/{total} answers, leakage {rate:.3g} "
        f"(upper bound {upper:.3g} at {confidence:g})"
    )
    needed: int | None = None
    verdict: Verdict
    if total == 0:
        verdict = "inconclusive"
        needed = (
            1
            if max_leakage == 0.0
            else samples_needed_for_leakage(max_leakage, confidence)
        )
    elif max_leakage == 0.0:
        verdict = "outside" if leaks else "within"
    elif upper <= max_leakage:
        verdict = "within"
    elif lower > max_leakage:
        verdict = "outside"
    else:
        verdict = "inconclusive"
        if leaks == 0:
            needed = samples_needed_for_leakage(max_leakage, confidence)
        else:
            want_in = rate < max_leakage
            check = _Decisive(0.0, max_leakage, inside=want_in)
            needed = _needed(rate, total, z1, check) if rate != max_leakage else None
    reasons = [summary]
    if verdict == "outside":
        leaked = (f"{d}={c}" for d, c in sorted(observed.items()) if d != target and c)
        reasons.append("leaked to " + ", ".join(leaked))
    if max_leakage:
        reasons.append(f"budget {max_leakage:g}")
    if verdict == "inconclusive":
        reasons.append(
            f"need {needed} samples to decide (have {total})"
            if needed is not None
            else f"more than {MAX_NEEDED_SAMPLES} samples needed (have {total})"
        )
    return AllInResult(
        total=total,
        target=target,
        inside=inside,
        outside=leaks,
        counts=dict(observed),
        leakage=rate,
        leakage_lower_bound=lower,
        leakage_upper_bound=upper,
        max_leakage=max_leakage,
        confidence=confidence,
        verdict=verdict,
        needed_samples=needed,
        reasons=reasons,
    )


# -- input checks --------------------------------------------------------------


def _check_confidence(confidence: float, *, low: float = 0.5) -> None:
    if not low < confidence < 1.0:
        raise ValueError(f"confidence: must be in ({low:g}, 1), got {confidence!r}")


def _check_shares(shares: Mapping[str, float], field: str) -> dict[str, float]:
    if not shares:
        raise ValueError(f"{field}: needs at least one destination")
    for dest, share in shares.items():
        if not isinstance(share, int | float) or not 0.0 <= share <= 1.0:
            raise ValueError(
                f"{field}[{dest!r}]: share must be in [0, 1], got {share!r}"
            )
    total = math.fsum(shares.values())
    if abs(total - 1.0) > _SHARE_SUM_SLACK:
        raise ValueError(f"{field}: shares must sum to 1, got {total:g}")
    return {str(d): float(s) for d, s in shares.items()}


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    for dest, count in counts.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(
                f"counts[{dest!r}]: must be a non-negative integer, got {count!r}"
            )
    return {str(d): c for d, c in counts.items()}
