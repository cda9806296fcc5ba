"""The one chi-square goodness-of-fit test every test uses (test-only statistics).

Pearson's statistic with its p-value from the regularized upper incomplete gamma
function; no SciPy. The mesh model's frequency tests, the lab's sampled splits and
the probe statistics' own tests all judge agreement with this one definition.
"""

import math
from collections.abc import Mapping
from typing import NamedTuple


class ChiSquare(NamedTuple):
    """A chi-square goodness-of-fit result."""

    statistic: float
    dof: int
    p_value: float


def gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a).

    Series for ``x < a + 1``, Lentz continued fraction otherwise (Numerical Recipes
    6.2); accurate to about 1e-14 relative.
    """
    if a <= 0.0 or x < 0.0:
        raise ValueError(f"gamma_q: need a > 0 and x >= 0, got a={a!r}, x={x!r}")
    if x == 0.0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    eps, tiny = 1e-16, 1e-300
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * eps:
                return max(0.0, 1.0 - total * math.exp(log_prefix))
    else:
        b = x + 1.0 - a
        c, d = 1.0 / tiny, 1.0 / b
        h = d
        for i in range(1, 100_000):
            an = -i * (i - a)
            b += 2.0
            d = an * d + b
            d = tiny if abs(d) < tiny else d
            c = b + an / c
            c = tiny if abs(c) < tiny else c
            d = 1.0 / d
            delta = d * c
            h *= delta
            if abs(delta - 1.0) < eps:
                return min(1.0, math.exp(log_prefix) * h)
    raise ArithmeticError(f"gamma_q did not converge for a={a!r}, x={x!r}")


def chi_square(
    counts: Mapping[str, int], expected_shares: Mapping[str, float]
) -> ChiSquare:
    """Pearson's chi-square goodness of fit of ``counts`` to ``expected_shares``.

    Observed destinations missing from ``expected_shares`` expect 0: any answer
    there gives an infinite statistic and p-value 0.  Destinations expecting 0 with
    no answers are left out of the degrees of freedom.  The usual caveat holds: the
    approximation wants an expected count of about 5 or more per destination.
    """
    expect = _shares(expected_shares)
    observed = _counts(counts)
    total = sum(observed.values())
    if total == 0:
        raise ValueError("counts: no samples to test")
    if any(c and not expect.get(d, 0.0) for d, c in observed.items()):
        return ChiSquare(math.inf, max(0, len(expect) - 1), 0.0)
    live = {d: s for d, s in expect.items() if s > 0.0}
    statistic = sum(
        (observed.get(d, 0) - total * s) ** 2 / (total * s) for d, s in live.items()
    )
    dof = len(live) - 1
    if dof == 0:
        return ChiSquare(statistic, 0, 1.0)
    return ChiSquare(statistic, dof, gamma_q(dof / 2.0, statistic / 2.0))


def chi_square_agrees(
    counts: Mapping[str, int],
    expected_shares: Mapping[str, float],
    alpha: float = 0.01,
) -> bool:
    """True unless the chi-square test rejects the expected shares at ``alpha``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha: must be in (0, 1), got {alpha!r}")
    return chi_square(counts, expected_shares).p_value >= alpha


def _shares(shares: Mapping[str, float]) -> dict[str, float]:
    if not shares or abs(math.fsum(shares.values()) - 1.0) > 1e-6:
        raise ValueError(f"expected_shares: must sum to 1, got {dict(shares)!r}")
    return {str(d): float(s) for d, s in shares.items()}


def _counts(counts: Mapping[str, int]) -> dict[str, int]:
    if any(
        isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts.values()
    ):
        raise ValueError(f"counts: must be non-negative integers, got {dict(counts)!r}")
    return {str(d): c for d, c in counts.items()}
