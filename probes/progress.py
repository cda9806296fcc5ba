"""Live progress while a probe waits: where the last batch went, the streak, the clock.

On a terminal a rich live line is redrawn after every batch; elsewhere (a CI log, a
file) plain lines are printed, at most one per `every` seconds plus the last one, so
a log stays readable.  The console is injectable: tests pass
`Console(file=io.StringIO())` (plain) or add `force_terminal=True` (live).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text

from chaosext.console import make_console

__all__ = ["LineProgress", "LiveProgress", "Progress", "WaitStatus", "progress_for"]


@dataclass
class WaitStatus:
    """What the wait shows after each batch."""

    title: str
    elapsed: float
    deadline: float
    batches: int
    streak: int
    consecutive: int
    shares: dict[str, float] = field(default_factory=dict)
    """The last batch's share per destination."""
    errors: int = 0
    """Failed requests in the last batch."""
    verdict: str = ""
    """The streak rule's word on the last batch (probes.convergence)."""
    hold: float = 0.0
    """Seconds the streak must span (0: `consecutive` batches are enough)."""
    held: float = 0.0
    """Seconds the streak spans so far."""

    def line(self) -> str:
        shares = ", ".join(
            f"{dest} {share:.0%}"
            for dest, share in sorted(self.shares.items(), key=lambda kv: -kv[1])
        )
        errors = f", {self.errors} errors" if self.errors else ""
        return (
            f"{self.title}: batch {self.batches} [{shares or 'no answer'}{errors}]"
            f" {self.verdict}; passed {self.streak}/{self.consecutive} in a row"
            + (f" over {self.held:.1f} of {self.hold:g} s" if self.hold else "")
            + f"; {self.elapsed:.1f} s of {self.deadline:g} s"
        )


class Progress(Protocol):
    """Receives the wait's status after each batch, and its outcome."""

    def update(self, status: WaitStatus) -> None: ...

    def close(self, outcome: str) -> None: ...


class LiveProgress:
    """A rich live line on a terminal, redrawn after each batch."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live: Live | None = None

    def update(self, status: WaitStatus) -> None:
        text = Text(status.line())
        if self._live is None:
            self._live = Live(
                text, console=self._console, auto_refresh=False, transient=True
            )
            self._live.start()
        self._live.update(text, refresh=True)

    def close(self, outcome: str) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        self._console.print(outcome, markup=False, highlight=False)


class LineProgress:
    """Plain lines (no terminal): at most one per `every` seconds, then the outcome."""

    def __init__(
        self,
        console: Console,
        *,
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._every = every
        self._clock = clock
        self._last: float | None = None

    def update(self, status: WaitStatus) -> None:
        now = self._clock()
        if self._last is None or now - self._last >= self._every:
            self._last = now
            self._console.print(status.line(), markup=False, highlight=False)

    def close(self, outcome: str) -> None:
        self._console.print(outcome, markup=False, highlight=False)


def progress_for(console: Console | None = None) -> Progress:
    """Live progress on a terminal, plain lines elsewhere (stderr by default)."""
    console = console or make_console(stderr=True)
    if console.is_terminal:
        return LiveProgress(console)
    return LineProgress(console)
