"""Latency per destination: nearest-rank percentiles and bounds on the median."""

import pytest
from chaoslib.exceptions import ActivityFailed
from hypothesis import given
from hypothesis import strategies as st

from probes import latency


@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=200))
def test_percentiles_are_measured_values_in_order(values: list[float]) -> None:
    """Each percentile is one of the values; p50 <= p90 <= p99 <= max."""
    out = latency.summary(values)
    assert out["count"] == len(values)
    assert out["p50"] <= out["p90"] <= out["p99"] <= out["max"]
    assert latency.percentile(values, 50) in values


def test_summary_of_nothing_is_a_count_of_zero() -> None:
    """No timed answer: only the count."""
    assert latency.summary([]) == {"count": 0}


def test_bounds_judge_the_median_and_name_the_numbers() -> None:
    """A slow destination passes `at least`, a fast one fails it with its numbers."""
    seen = {"a": [0.51, 0.52, 0.6], "b": [0.01, 0.02, 0.9]}
    assert latency.bound_problems(seen, "cluster", ({"a": 0.5}, {"b": 0.5})) == []
    (problem,) = latency.bound_problems(seen, "cluster", ({"b": 0.5}, {}))
    assert "cluster b: median 0.020 s over 3 answers, below the 0.5 s" in problem
    (missing,) = latency.bound_problems(seen, "cluster", ({}, {"c": 0.5}))
    assert "no timed answer" in missing


def test_bound_arguments_are_checked_and_keys_substituted() -> None:
    """Keys may be ${...}; values are seconds; anything else names the argument."""
    config = {"cluster_a_context": "cluster-a"}
    bounds = latency.check_bounds(
        "latency_at_least", {"${cluster_a_context}": "0.5"}, config
    )
    assert bounds == {"cluster-a": 0.5}
    assert latency.check_bounds("latency_below", None) == {}
    with pytest.raises(ActivityFailed, match="latency_below"):
        latency.check_bounds("latency_below", [0.5])
