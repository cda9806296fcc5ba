"""What the `fig_*` modules share: interleaved repeats, a figure's text, private labs.

A figure compares contenders measured side by side: `interleaved` runs one repeat
of each in turn (A B A B ...), so a change in the machine's load hits all alike.
`figure_text` writes a median with its spread: `12.3 (min 11.0, max 14.2; n=5)`.
"""

import contextlib
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def interleaved(
    contenders: dict[str, Callable[[], T]], repeats: int
) -> dict[str, list[T]]:
    """Each contender's results, repeat by repeat in turn (A B A B ...)."""
    results: dict[str, list[T]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, take in contenders.items():
            results[name].append(take())
    return results


def figure_text(values: Sequence[float], unit: str = "", digits: int = 2) -> str:
    """`median unit (min .., max ..; n=N)`."""
    if not values:
        return "n/a (no measurement)"
    u = f" {unit}" if unit else ""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}{u} (n=1)"
    return (
        f"{med:.{digits}f}{u} (min {min(values):.{digits}f},"
        f" max {max(values):.{digits}f}; n={len(values)})"
    )


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Pairwise ratios of interleaved repeats."""
    return [a / b for a, b in zip(numerators, denominators, strict=True) if b]


def load_average() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return " ".join(f"{x:.2f}" for x in load)


@contextlib.contextmanager
def private_lab(topology: str) -> Iterator[Any]:
    """A lab of `topology` in a temporary state directory, stopped at the end."""
    from chaosext.lab import runtime

    with tempfile.TemporaryDirectory(prefix="meshdrill-bench-") as tmp:
        info = runtime.start_lab(topology, tmp)
        try:
            yield info
        finally:
            runtime.stop_lab(Path(tmp))
