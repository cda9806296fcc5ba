"""Numeric probe arguments as `--var` gives them (strings), and bad ones named."""

from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed

from probes import arguments


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), ("120", 120), (" 7 ", 7), (4.0, 4), ("0", 0)]
)
def test_integer_accepts_numbers_and_numeric_strings(value: Any, expected: int) -> None:
    """Whole numbers, as ints, floats or strings, become ints."""
    assert arguments.integer("samples", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(0.1, 0.1), ("0.03", 0.03), (1, 1.0), ("1e-3", 0.001)]
)
def test_real_accepts_numbers_and_numeric_strings(value: Any, expected: float) -> None:
    """Numbers and numeric strings become floats."""
    assert arguments.real("tolerance", value) == expected


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (arguments.integer, "ten", "argument 'x' must be a whole number, got 'ten'"),
        (arguments.integer, 2.5, "argument 'x' must be a whole number, got 2.5"),
        (arguments.integer, "2.5", "argument 'x' must be a whole number, got '2.5'"),
        (arguments.integer, True, "argument 'x' must be a whole number, got True"),
        (arguments.integer, None, "argument 'x' must be a whole number, got None"),
        (arguments.real, "", "argument 'x' must be a number, got ''"),
        (arguments.real, [1], "argument 'x' must be a number, got [1]"),
        (arguments.real, "nan", "argument 'x' must be a finite number, got 'nan'"),
    ],
)
def test_a_value_that_is_not_a_number_is_named(
    check: Any, value: Any, message: str
) -> None:
    """The message names the argument and quotes the value."""
    with pytest.raises(ActivityFailed) as err:
        check("x", value)
    assert str(err.value) == message


def test_a_number_below_its_floor_is_named() -> None:
    """`low` bounds the value; the message says the floor and the value."""
    with pytest.raises(ActivityFailed, match="'samples' must be at least 1, got 0"):
        arguments.integer("samples", "0", low=1)
