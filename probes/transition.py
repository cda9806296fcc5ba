"""When traffic changed regime: the first answer of the new split, from timed answers.

A wait's batches say roughly when traffic settled (the first batch of the run that
converged); the answers inside them say it precisely.  Every answer and failed
request carries the time it completed (see probes.sampling), so the probe looks at
the events from the last batch that failed through the converged run and finds the
point where the old regime ends and the new one begins:

- after that point, events are scored by the new regime: a destination's expected
  share; a destination expected to get nothing (or an unknown pod) at most
  `tolerance`; a failed request at most `max_error_rate` (both floored at 0.001),
  or the share expected for `error` when the split names it;
- before it, by the old regime, whatever it was: the shares observed before the
  point (their maximum likelihood);
- the point is the one that makes the whole sequence most likely (a change-point
  estimate); ties go to the earliest.

So a failover from 50/50 to all-in-B ends just after the last answer from A or the
last failed request; a recovery from all-in-B to 50/50 begins at the first answer
from A.  With no failed batch before the converged run, traffic had already moved
when the first answer came: the first answer is the transition.

The estimate is only as fine as the answers are dense: `resolution` is the time
between the last event of the old regime and the first of the new (the change
happened in between); timestamps themselves are as good as the sampler's (see
docs/sampling.md).
"""

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from probes.tally import ERROR

__all__ = ["FLOOR", "Transition", "locate"]

FLOOR = 0.001
"""Smallest probability the new regime gives an event (a leak, an error)."""

Event = tuple[float, str]
"""(time, what): a destination, "unknown" or "error:<kind>" (see probes.tally)."""


@dataclass(frozen=True)
class Transition:
    """The first event of the new regime and how precisely it is placed."""

    at: float
    """When the first event of the new regime completed (the sampler's clock)."""
    resolution: float
    """Seconds between the old regime's last event (or `since`) and `at`."""
    index: int
    """Position of that event in the events given."""


def new_regime_probability(
    what: str,
    expected: Mapping[str, float],
    tolerance: float,
    max_error_rate: float,
) -> float:
    """How likely the settled regime makes one event (a score, not normalised)."""
    if what.startswith("error:"):
        return max(expected.get(ERROR, 0.0), max_error_rate, FLOOR)
    share = expected.get(what, 0.0)
    return share if share > 0.0 else max(tolerance, FLOOR)


def locate(
    events: Sequence[Event],
    expected: Mapping[str, float],
    *,
    tolerance: float,
    max_error_rate: float,
    since: float,
    changed_inside: bool,
) -> Transition | None:
    """The first event of the new regime among `events` (time-ordered).

    `changed_inside` says the events begin with a batch that failed (the change
    lies inside them); otherwise the first event is the transition.  `since` is
    the last moment known to be before any event (the wait's start, or the end of
    the batch before), for the resolution of a transition at the first event.
    None without events, or if the old regime lasts to the last event.
    """
    if not events:
        return None
    if not changed_inside:
        return Transition(events[0][0], max(0.0, events[0][0] - since), 0)
    new_scores = [
        math.log(new_regime_probability(what, expected, tolerance, max_error_rate))
        for _, what in events
    ]
    # suffix[k]: log-likelihood of events[k:] under the new regime
    suffix = [0.0] * (len(events) + 1)
    for k in range(len(events) - 1, -1, -1):
        suffix[k] = suffix[k + 1] + new_scores[k]
    best_k, best = 0, suffix[0]
    seen: Counter[str] = Counter()
    prefix = 0.0  # sum c*log(c) over labels of events[:k]
    for k in range(1, len(events) + 1):
        what = events[k - 1][1]
        c = seen[what]
        prefix += (c + 1) * math.log(c + 1) - (c * math.log(c) if c else 0.0)
        seen[what] = c + 1
        old = prefix - k * math.log(k)  # profile log-likelihood of the prefix
        score = old + suffix[k]
        if score > best + 1e-9:
            best_k, best = k, score
    if best_k == len(events):  # the old regime never ended inside: no estimate
        return None
    at = events[best_k][0]
    before = events[best_k - 1][0] if best_k else since
    return Transition(at, max(0.0, at - before), best_k)
