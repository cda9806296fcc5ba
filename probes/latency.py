"""Latency per destination: percentiles from the sampler's timed answers, and bounds.

Every answer the samplers record carries how long its request took (from sending
it to its last byte; for an exec source, curl's `time_total`). A tally keeps them
per destination of each grouping (cluster, region, zone, pod), and every split
report carries `latency`: for each grouping and destination, the `count` of timed
answers and their `p50`, `p90`, `p99` and `max` in seconds (nearest-rank
percentiles: each one is a latency that was measured).

Bounds (`latency_at_least`, `latency_below`: destination -> seconds, keys with
`${...}` substituted like `expected`) judge the MEDIAN (p50) of a destination in
the probe's grouping: a delay on every request of a destination puts its median at
least that high, and a median is not moved by the odd slow or fast answer. A
destination with no timed answer fails a bound (nothing shows the latency).
"""

import math
from collections.abc import Mapping, Sequence
from typing import Any

from chaoslib import substitute
from chaoslib.exceptions import ActivityFailed

from probes import arguments

__all__ = [
    "Bounds",
    "apply_bounds",
    "bound_problems",
    "check_bounds",
    "percentile",
    "summary",
]

PERCENTILES = (50, 90, 99)

Bounds = tuple[dict[str, float], dict[str, float]]
"""(at least, below): destination -> seconds, for the median."""


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, Any]:
    """`count`, `p50`, `p90`, `p99` and `max` (seconds, to the millisecond)."""
    if not values:
        return {"count": 0}
    out: dict[str, Any] = {"count": len(values)}
    for p in PERCENTILES:
        out[f"p{p}"] = round(percentile(values, p), 4)
    out["max"] = round(max(values), 4)
    return out


def check_bounds(
    name: str,
    value: Any,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """A bound argument (None or {} for none), keys substituted, values checked."""
    if value is None or value == "" or value == {}:
        return {}
    if not isinstance(value, Mapping):
        raise ActivityFailed(
            f"argument '{name}' must map destinations to seconds, e.g."
            ' {"${cluster_a_context}": 0.5}'
        )
    bounds = {}
    for key, seconds in value.items():
        dest = str(substitute(str(key), dict(configuration or {}), dict(secrets or {})))
        bounds[dest] = arguments.real(f"{name}[{key}]", seconds, low=0.0)
    return bounds


def bound_problems(
    latencies: Mapping[str, Sequence[float]], by: str, bounds: Bounds
) -> list[str]:
    """One line per destination whose median breaks a bound (empty: all hold)."""
    at_least, below = bounds
    found = []
    for dest, seconds in sorted(at_least.items()):
        values = latencies.get(dest) or ()
        if not values:
            found.append(
                f"latency of {by} {dest}: no timed answer from it (wanted a median"
                f" of at least {seconds:g} s)"
            )
        elif (median := percentile(values, 50)) < seconds:
            found.append(
                f"latency of {by} {dest}: median {median:.3f} s over"
                f" {len(values)} answers, below the {seconds:g} s it should be"
                " at least (the delay did not take effect)"
            )
    for dest, seconds in sorted(below.items()):
        values = latencies.get(dest) or ()
        if not values:
            found.append(
                f"latency of {by} {dest}: no timed answer from it (wanted a median"
                f" below {seconds:g} s)"
            )
        elif (median := percentile(values, 50)) >= seconds:
            found.append(
                f"latency of {by} {dest}: median {median:.3f} s over"
                f" {len(values)} answers, not below {seconds:g} s"
            )
    return found


def apply_bounds(
    report: dict[str, Any],
    latencies: Mapping[str, Sequence[float]],
    by: str,
    bounds: Bounds,
) -> dict[str, Any]:
    """Make a split report `outside`, with one reason per broken bound."""
    found = bound_problems(latencies, by, bounds)
    if found:
        report["verdict"] = "outside"
        report["passed"] = False
        report.setdefault("reasons", []).extend(found)
    return report
