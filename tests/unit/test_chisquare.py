"""The tests' shared chi-square (tests/chisquare.py) against tables and closed forms."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import chisquare


@pytest.mark.parametrize(
    ("statistic", "dof", "p_value"),
    [
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (11.344866730144373, 3, 0.01),
        (18.307038053275146, 10, 0.05),
        (124.34211340400407, 100, 0.05),
        (0.5, 4, math.exp(-0.25) * 1.25),
    ],
)
def test_chi_square_p_values_match_tables(
    statistic: float, dof: int, p_value: float
) -> None:
    """Q(dof/2, x/2) reproduces chi-square table values."""
    assert chisquare.gamma_q(dof / 2, statistic / 2) == pytest.approx(p_value, rel=1e-9)


@given(x=st.floats(0.0, 200.0))
def test_chi_square_closed_forms(x: float) -> None:
    """For 1, 2 and 6 degrees of freedom the survival function has closed forms."""
    assert chisquare.gamma_q(0.5, x / 2) == pytest.approx(
        math.erfc(math.sqrt(x / 2)), abs=1e-12
    )
    assert chisquare.gamma_q(1.0, x / 2) == pytest.approx(math.exp(-x / 2), abs=1e-12)
    six = math.exp(-x / 2) * (1 + x / 2 + x * x / 8)
    assert chisquare.gamma_q(3.0, x / 2) == pytest.approx(six, abs=1e-12)


def test_chi_square_statistic() -> None:
    """60/40 against 50/50: statistic 4 on 1 dof, p = erfc(sqrt(2))."""
    result = chisquare.chi_square({"a": 60, "b": 40}, {"a": 0.5, "b": 0.5})
    assert (result.statistic, result.dof) == (4.0, 1)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(2)))


@pytest.mark.parametrize(
    ("counts", "agrees"),
    [
        ({"a": 100, "b": 100}, True),
        ({"a": 93, "b": 107}, True),
        ({"a": 150, "b": 50}, False),
        ({"a": 100, "b": 100, "c": 1}, False),
    ],
)
def test_chi_square_agrees(counts: dict[str, int], agrees: bool) -> None:
    """Agreement at alpha 0.01; an answer from an unexpected destination disagrees."""
    assert chisquare.chi_square_agrees(counts, {"a": 0.5, "b": 0.5}) is agrees


def test_chi_square_needs_samples() -> None:
    """No samples is a ValueError rather than a silent agreement."""
    with pytest.raises(ValueError, match="counts"):
        chisquare.chi_square_agrees({"a": 0}, {"a": 0.5, "b": 0.5})
