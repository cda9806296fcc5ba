"""Numeric probe arguments as users give them: `chaos run --var deadline=120`.

Chaos Toolkit replaces `"${deadline}"` with the configuration value as it is, and
`--var key=value` (without `:int` or `:float`) makes that value a string, so a
probe receives "120". These helpers accept numbers and numeric strings, and
reject anything else with a message naming the argument and the value.
"""

import math
from typing import Any

from chaoslib.exceptions import ActivityFailed

__all__ = ["integer", "real"]


def real(name: str, value: Any, *, low: float | None = None) -> float:
    """`value` as a float; ActivityFailed naming `name` if it is not one (or < low)."""
    number = _parse(name, value, float, "a number")
    if not math.isfinite(number):
        raise ActivityFailed(
            f"argument '{name}' must be a finite number, got {value!r}"
        )
    return _at_least(name, number, low)


def integer(name: str, value: Any, *, low: int | None = None) -> int:
    """`value` as an int; ActivityFailed naming `name` if it is not one (or < low)."""
    if isinstance(value, float):
        if not value.is_integer():
            raise ActivityFailed(
                f"argument '{name}' must be a whole number, got {value!r}"
            )
        value = int(value)
    return _at_least(name, _parse(name, value, int, "a whole number"), low)


def _parse(name: str, value: Any, kind: type, what: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ActivityFailed(f"argument '{name}' must be {what}, got {value!r}")
    try:
        return kind(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ActivityFailed(
            f"argument '{name}' must be {what}, got {value!r}"
        ) from None


def _at_least(name: str, number: Any, low: Any) -> Any:
    if low is not None and number < low:
        raise ActivityFailed(f"argument '{name}' must be at least {low}, got {number}")
    return number
