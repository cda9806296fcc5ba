"""What every benchmark shares: timed repeats, median and p90, the machine it ran on,
and a rich table on stdout.

The scripts run as `.venv/bin/python benchmarks/<name>.py`, so this module is found
next to them. `ROOT` is the repository root (failover.py puts it on `sys.path` to
reuse tests/drills/drilling.py).
"""

import datetime
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 200
"""Columns when stdout is not a terminal (rich would use 80 and cut the tables)."""


def p90(values: Sequence[float]) -> float:
    """The 90th percentile (inclusive interpolation; the value itself for one)."""
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0]
    return statistics.quantiles(ordered, n=10, method="inclusive")[-1]


@dataclass(frozen=True)
class Spread:
    """Median and p90 of repeated measurements."""

    median: float
    p90: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        if not values:
            raise ValueError("no measurements")
        return cls(statistics.median(values), p90(values), len(values))


def timed(fn: Callable[[], object], repeats: int) -> Spread:
    """Seconds per call of `fn` over `repeats` calls (time.perf_counter)."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Spread.of(seconds)


def machine() -> dict[str, str]:
    """Facts that decide how far figures from one machine carry to another."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": f"{os.cpu_count()} ({usable or '?'} usable)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
        "load average": " ".join(f"{x:.2f}" for x in load),
    }


def console() -> Console:
    """stdout, wide enough for the tables when redirected to a file."""
    return Console(width=None if sys.stdout.isatty() else WIDTH, highlight=False)


def print_machine(out: Console, title: str) -> None:
    """The benchmark's title and the machine facts, one line each."""
    out.print(f"[bold]{title}[/bold]")
    for key, value in machine().items():
        out.print(f"  {key}: {value}")
    out.print()


def table(*columns: str, left: int = 1) -> Table:
    """A table (no wrapping): the first `left` columns left-aligned (names), the
    others right-aligned (figures)."""
    out = Table()
    for i, column in enumerate(columns):
        out.add_column(column, justify="left" if i < left else "right", no_wrap=True)
    return out


def print_table(out: Console, title: str, rows: Table) -> None:
    """The title on its own line (rich would wrap it to the table's width), then
    the table."""
    out.print(f"[bold]{title}[/bold]", soft_wrap=True)
    out.print(rows)
    out.print()


def us(seconds: float) -> str:
    """Microseconds, 2 significant decimals below 10."""
    value = seconds * 1e6
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def ms(seconds: float) -> str:
    """Milliseconds."""
    value = seconds * 1e3
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def secs(seconds: float | None) -> str:
    """Seconds with two decimals, or '-' when there is no figure."""
    return "-" if seconds is None else f"{seconds:.2f}"


def rate(count: float, seconds: float) -> str:
    """count / seconds as a rounded per-second figure."""
    if seconds <= 0:
        return "-"
    value = count / seconds
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
