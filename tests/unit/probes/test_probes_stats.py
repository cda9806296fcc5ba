"""Split statistics: Wilson intervals, split and all-in verdicts, chi-square."""

import json
import math
from functools import reduce

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from probes import stats

Z95 = 1.959963984540054

counts_st = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 5000), min_size=1
).filter(lambda c: sum(c.values()) > 0)


def shares_of(weights: dict[str, int]) -> dict[str, float]:
    total = sum(weights.values())
    return {d: w / total for d, w in weights.items()}


# -- wilson_interval -----------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (50, 100, (0.4038315, 0.5961685)),
        (0, 10, (0.0, 0.2775328)),
        (10, 10, (0.7224672, 1.0)),
        (1, 3, (0.0614919, 0.7923404)),
        (0, 0, (0.0, 1.0)),
    ],
)
def test_wilson_known_values(
    successes: int, n: int, expected: tuple[float, float]
) -> None:
    """Wilson intervals match published values (95%)."""
    assert stats.wilson_interval(successes, n) == pytest.approx(expected, abs=1e-6)


@given(n=st.integers(1, 100_000), data=st.data())
def test_wilson_contains_estimate_within_unit(n: int, data: st.DataObject) -> None:
    """The interval contains the observed share and lies in [0, 1]."""
    k = data.draw(st.integers(0, n))
    confidence = data.draw(st.floats(0.51, 0.9999))
    lo, hi = stats.wilson_interval(k, n, confidence)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


@given(k=st.integers(0, 50), extra=st.integers(0, 50), scale=st.integers(1, 200))
def test_wilson_shrinks_as_n_grows(k: int, extra: int, scale: int) -> None:
    """At a fixed share, a larger sample gives an interval nested in the smaller's."""
    m = k + extra + 1
    lo1, hi1 = stats.wilson_interval(k * scale, m * scale)
    lo2, hi2 = stats.wilson_interval(k * (scale + 1), m * (scale + 1))
    assert lo1 - 1e-12 <= lo2 <= hi2 <= hi1 + 1e-12


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (1, -1)])
def test_wilson_rejects_impossible_counts(k: int, n: int) -> None:
    """Counts outside 0 <= k <= n are a ValueError naming successes."""
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(k, n)


# -- split_verdict -------------------------------------------------------------


def test_worked_example_200_samples_within() -> None:
    """100/100 at 50/50 +/- 0.10 (95%): both intervals [0.43, 0.57], within."""
    result = stats.split_verdict({"a": 100, "b": 100}, {"a": 0.5, "b": 0.5}, 0.1)
    assert result["verdict"] == "within"
    assert result["intervals"]["a"] == pytest.approx([0.43136, 0.56864], abs=1e-5)
    assert result["needed_samples"] is None
    assert result["reasons"][0] == "a: 0.50 [0.43, 0.57] inside 0.50±0.10"


def test_clear_miss_is_outside() -> None:
    """62/138 against 50/50 +/- 0.10 is outside, and the reason says so."""
    result = stats.split_verdict(
        {"cluster-a": 62, "cluster-b": 138}, {"cluster-a": 0.5, "cluster-b": 0.5}, 0.1
    )
    assert result["verdict"] == "outside"
    assert result["reasons"][0] == "cluster-a: 0.31 [0.25, 0.38] outside 0.50±0.10"


def test_small_sample_is_inconclusive_with_needed_samples() -> None:
    """10/10 cannot tell 50/50 +/- 0.10; 93 samples would (z^2/4/0.1^2 rounded up)."""
    result = stats.split_verdict({"a": 10, "b": 10}, {"a": 0.5, "b": 0.5}, 0.1)
    assert result["verdict"] == "inconclusive"
    assert result["needed_samples"] == math.ceil(Z95**2 * 0.4 * 0.6 / 0.1**2)
    assert result["reasons"][-1] == "need 93 samples to decide (have 20)"


def test_needed_samples_matches_the_closed_form() -> None:
    """3:1 against 0.7 +/- 0.1: the binding edge 0.8 needs z^2 b(1-b)/(p-b)^2."""
    result = stats.split_verdict({"a": 3, "b": 1}, {"a": 0.7, "b": 0.3}, 0.1)
    assert result["needed_samples"] == math.ceil(Z95**2 * 0.8 * 0.2 / 0.05**2)
    at_needed = stats.split_verdict({"a": 186, "b": 62}, {"a": 0.7, "b": 0.3}, 0.1)
    below = stats.split_verdict({"a": 183, "b": 61}, {"a": 0.7, "b": 0.3}, 0.1)
    assert (at_needed["verdict"], below["verdict"]) == ("within", "inconclusive")


def test_share_on_band_edge_never_decides() -> None:
    """An observed share exactly on the band edge gives needed_samples None."""
    result = stats.split_verdict({"a": 60, "b": 40}, {"a": 0.5, "b": 0.5}, 0.1)
    assert (result["verdict"], result["needed_samples"]) == ("inconclusive", None)
    assert result["reasons"][-1].startswith("more than 100000 samples")


def test_unexpected_destination_expects_zero() -> None:
    """Answers from a destination not in `expected` are judged against 0 +/- tol."""
    result = stats.split_verdict(
        {"a": 50, "b": 50, "rogue": 40}, {"a": 0.5, "b": 0.5}, 0.1
    )
    assert result["expected"]["rogue"] == 0.0
    assert result["verdict"] == "outside"
    assert result["reasons"][-1].startswith("rogue: 0.29")


def test_no_samples_is_inconclusive_from_expected_shares() -> None:
    """With no answers, needed_samples assumes the expected shares."""
    result = stats.split_verdict({}, {"a": 0.5, "b": 0.5}, 0.1)
    assert (result["verdict"], result["total"], result["needed_samples"]) == (
        "inconclusive",
        0,
        93,
    )


def test_result_is_json() -> None:
    """The result survives a JSON round trip unchanged."""
    result = stats.split_verdict({"a": 7, "b": 3}, {"a": 0.5, "b": 0.5}, 0.2)
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize(
    ("counts", "expected", "tolerance", "confidence", "field"),
    [
        ({"a": 1}, {"a": 1.0}, 0.0, 0.95, "tolerance"),
        ({"a": 1}, {"a": 1.0}, 1.0, 0.95, "tolerance"),
        ({"a": 1}, {"a": 1.0}, 0.1, 0.5, "confidence"),
        ({"a": 1}, {"a": 1.0}, 0.1, 1.0, "confidence"),
        ({"a": 1}, {"a": 0.6, "b": 0.3}, 0.1, 0.95, "expected"),
        ({"a": 1}, {"a": 1.2, "b": -0.2}, 0.1, 0.95, "expected"),
        ({"a": 1}, {}, 0.1, 0.95, "expected"),
        ({"a": -1}, {"a": 1.0}, 0.1, 0.95, "counts"),
        ({"a": 1.5}, {"a": 1.0}, 0.1, 0.95, "counts"),
    ],
)
def test_split_rejects_bad_input_naming_the_field(
    counts: dict[str, int],
    expected: dict[str, float],
    tolerance: float,
    confidence: float,
    field: str,
) -> None:
    """Bad inputs raise ValueError whose message names the field."""
    with pytest.raises(ValueError, match=field):
        stats.split_verdict(counts, expected, tolerance, confidence)


@given(counts=counts_st)
def test_shares_sum_to_one(counts: dict[str, int]) -> None:
    """Observed shares sum to 1 and each interval contains its share."""
    expected = {d: 1 / len(counts) for d in counts}
    result = stats.split_verdict(counts, expected, 0.1)
    assert math.fsum(result["shares"].values()) == pytest.approx(1.0)
    for dest, (lo, hi) in result["intervals"].items():
        assert 0.0 <= lo <= result["shares"][dest] <= hi <= 1.0


@given(
    weights=st.dictionaries(
        st.sampled_from("abcde"), st.integers(1, 10), min_size=1, max_size=5
    ),
    tolerance=st.floats(0.02, 0.5),
    confidence=st.floats(0.6, 0.999),
)
def test_exact_match_with_large_n_is_within(
    weights: dict[str, int], tolerance: float, confidence: float
) -> None:
    """Counts exactly proportional to the expected shares, n = 20,000+: within."""
    scale = 20_000 // sum(weights.values()) + 1
    counts = {d: w * scale for d, w in weights.items()}
    result = stats.split_verdict(counts, shares_of(weights), tolerance, confidence)
    assert result["verdict"] == "within"


@given(
    counts=st.dictionaries(
        st.sampled_from("abcd"), st.integers(0, 40), min_size=2, max_size=4
    ),
    weights=st.lists(st.integers(1, 10), min_size=4, max_size=4),
    tolerance=st.floats(0.03, 0.4),
)
def test_needed_samples_makes_it_decisive(
    counts: dict[str, int], weights: list[int], tolerance: float
) -> None:
    """Scaling the sample (same shares) up to needed_samples makes it decisive."""
    total = sum(counts.values())
    assume(total > 0)
    expected = shares_of(dict(zip("abcd", weights, strict=True)))
    result = stats.split_verdict(counts, expected, tolerance)
    assume(result["verdict"] == "inconclusive" and result["needed_samples"])
    needed = result["needed_samples"]
    assert needed is not None
    assert needed > total
    base = reduce(math.gcd, counts.values())
    scale = math.ceil(needed / (total // base))
    scaled = {d: c // base * scale for d, c in counts.items()}
    assert stats.split_verdict(scaled, expected, tolerance)["verdict"] != "inconclusive"


# -- all_in --------------------------------------------------------------------


def test_all_in_no_leak_is_within_with_rule_of_three_bound() -> None:
    """100 of 100 in target: within; leakage bound 1 - 0.05**(1/100), about 3/n."""
    result = stats.all_in({"cluster-b": 100}, "cluster-b")
    assert result["verdict"] == "within"
    assert result["leakage_upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 100))


def test_all_in_any_leak_is_outside_without_budget() -> None:
    """With no budget, a single answer elsewhere is outside, named in the reasons."""
    result = stats.all_in({"cluster-b": 99, "cluster-a": 1}, "cluster-b")
    assert (result["verdict"], result["outside"]) == ("outside", 1)
    assert "cluster-a=1" in result["reasons"][1]


@pytest.mark.parametrize(
    ("counts", "verdict", "needed"),
    [
        ({"t": 300}, "within", None),
        ({"t": 100}, "inconclusive", 299),
        ({"t": 300, "x": 30}, "outside", None),
        ({"t": 300, "x": 1}, "inconclusive", 601),
        ({}, "inconclusive", 299),
    ],
)
def test_all_in_with_budget(counts: dict[str, int], verdict: str, needed: int) -> None:
    """With a 1% budget the verdict follows the one-sided bounds."""
    result = stats.all_in(counts, "t", max_leakage=0.01)
    assert (result["verdict"], result["needed_samples"]) == (verdict, needed)


@given(n=st.integers(1, 5000), data=st.data())
def test_leakage_bound_grows_with_leaks(n: int, data: st.DataObject) -> None:
    """One more leak never lowers the upper bound; it always covers the rate."""
    leaks = data.draw(st.integers(0, n - 1))
    fewer = stats.all_in({"t": n - leaks, "x": leaks}, "t")
    more = stats.all_in({"t": n - leaks - 1, "x": leaks + 1}, "t")
    assert fewer["leakage_upper_bound"] <= more["leakage_upper_bound"]
    assert more["leakage"] <= more["leakage_upper_bound"]


@given(budget=st.floats(0.0001, 0.5), confidence=st.floats(0.51, 0.9999))
def test_samples_needed_for_leakage_is_minimal(
    budget: float, confidence: float
) -> None:
    """At the returned n the zero-leak bound meets the budget; at n - 1 it does not."""
    n = stats.samples_needed_for_leakage(budget, confidence)
    at_n = stats.all_in({"t": n}, "t", confidence)["leakage_upper_bound"]
    assert at_n <= budget
    if n > 1:
        below = stats.all_in({"t": n - 1}, "t", confidence)["leakage_upper_bound"]
        assert below > budget


def test_samples_needed_rule_of_three() -> None:
    """About 3/budget at 95%: 299 for 1%, 2995 for 0.1%."""
    assert stats.samples_needed_for_leakage(0.01) == 299
    assert stats.samples_needed_for_leakage(0.001) == 2995


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_leakage": 1.0}, "max_leakage"),
        ({"max_leakage": -0.1}, "max_leakage"),
        ({"confidence": 0.3}, "confidence"),
        ({"target": ""}, "target"),
    ],
)
def test_all_in_rejects_bad_input(kwargs: dict[str, object], field: str) -> None:
    """Bad inputs raise ValueError naming the field."""
    args: dict[str, object] = {"counts": {"t": 1}, "target": "t", **kwargs}
    with pytest.raises(ValueError, match=field):
        stats.all_in(**args)  # type: ignore[arg-type]
