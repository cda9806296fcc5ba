"""Locating the first answer of the new regime among timed answers."""

import pytest

from probes import transition
from probes.convergence import StreakRule
from probes.tally import Tally

FAILOVER = {"b": 1.0}
EVEN = {"a": 0.5, "b": 0.5}


def events(labels: str) -> list[tuple[float, str]]:
    """One event per character at t = 1, 2, 3...; `!` is a reset."""
    return [
        (float(i + 1), "error:reset" if c == "!" else c) for i, c in enumerate(labels)
    ]


def locate(labels: str, expected: dict[str, float], **kw: object):
    return transition.locate(
        events(labels),
        expected,
        tolerance=kw.get("tolerance", 0.03),  # type: ignore[arg-type]
        max_error_rate=0.0,
        since=0.0,
        changed_inside=kw.get("changed_inside", True),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("labels", "index"),
    [
        ("abab" + "b" * 20, 3),  # after the last answer from A
        ("abba!!" + "b" * 20, 6),  # after the last failed request
        ("ab!b!" + "b" * 20, 5),
    ],
)
def test_failover_ends_after_the_old_regime_last_shows(labels: str, index: int) -> None:
    found = locate(labels, FAILOVER)
    assert found is not None
    assert (found.index, found.at, found.resolution) == (index, index + 1.0, 1.0)


def test_recovery_begins_at_the_first_answer_from_the_returning_destination() -> None:
    found = locate("b" * 20 + "abbaabab" * 3, EVEN, tolerance=0.1)
    assert found is not None
    assert found.index == 20


def test_without_a_failed_batch_the_first_answer_is_the_transition() -> None:
    found = locate("bbbb", FAILOVER, changed_inside=False)
    assert found is not None
    assert (found.index, found.at, found.resolution) == (0, 1.0, 1.0)


def test_no_events_or_no_end_of_the_old_regime_gives_no_estimate() -> None:
    assert locate("", FAILOVER) is None
    assert locate("bbba", FAILOVER) is None


def tally(counts: dict[str, int], errors: int = 0) -> Tally:
    t = Tally(requests=sum(counts.values()) + errors)
    t.counts["cluster"].update(counts)
    t.counts["pod"].update(counts)
    if errors:
        t.errors["reset"] = errors
    return t


@pytest.mark.parametrize(
    ("counts", "errors", "passed", "verdict"),
    [
        ({"a": 25, "b": 25}, 0, True, "inconclusive"),
        ({"a": 31, "b": 19}, 0, True, "inconclusive"),  # a raw +-10% band fails it
        ({"a": 38, "b": 12}, 0, False, "outside"),
        ({"a": 25, "b": 24}, 1, False, "errors"),
    ],
)
def test_streak_rule_resets_only_on_evidence(
    counts: dict[str, int], errors: int, passed: bool, verdict: str
) -> None:
    rule = StreakRule({"a": 0.5, "b": 0.5}, "cluster", 0.1, 0.95, 0.0)
    judged = rule.judge(tally(counts, errors))
    assert (judged.passed, judged.verdict) == (passed, verdict)


def test_streak_rule_no_answer_fails() -> None:
    rule = StreakRule({"a": 0.5, "b": 0.5}, "cluster", 0.1, 0.95, 0.0)
    assert rule.judge(None).verdict == "no_answer"
    assert rule.judge(tally({}, 5)).verdict == "no_answer"
