"""A game-day run's outcome, resilience score and JSON report (pure values)."""

import getpass
import os
import signal
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from chaosext import __version__
from chaosext.gameday.model import GameDay
from chaosext.gameday.verdicts import DrillResult

__all__ = ["SCORE_DEFINITION", "GameDayRun", "resilience_score"]

SCORE_DEFINITION = (
    "drills passed / drills in the game day x 100; failed, errored, interrupted "
    "and skipped drills count as not passed"
)

Outcome = Literal["passed", "failed", "interrupted"]


def resilience_score(results: Sequence[DrillResult]) -> float:
    """Percentage of the game day's drills that passed (0 for no drills)."""
    if not results:
        return 0.0
    return round(100.0 * sum(result.passed for result in results) / len(results), 1)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class GameDayRun:
    """Everything one run of a game day produced."""

    game_day: GameDay
    results: tuple[DrillResult, ...]
    started: datetime
    finished: datetime
    run_dir: Path
    report_path: Path
    due: datetime | None = None
    interrupted_by: int | None = None

    @property
    def passed(self) -> bool:
        """True only if every drill ran and passed."""
        return bool(self.results) and all(result.passed for result in self.results)

    @property
    def outcome(self) -> Outcome:
        """passed, failed, or interrupted (by a signal)."""
        if self.interrupted_by is not None:
            return "interrupted"
        return "passed" if self.passed else "failed"

    @property
    def score(self) -> float:
        """The resilience score, see SCORE_DEFINITION."""
        return resilience_score(self.results)

    @property
    def exit_code(self) -> int:
        """0 if every drill passed, 128+N when stopped by signal N, else 1."""
        if self.interrupted_by is not None:
            return 128 + self.interrupted_by
        return 0 if self.passed else 1

    def to_json(self) -> dict[str, Any]:
        """The game-day report, also the body posted to webhooks."""
        return {
            "kind": "meshdrill-gameday-report",
            "meshdrill_version": __version__,
            "gameday": self.game_day.name,
            "description": self.game_day.description,
            "file": str(self.game_day.path),
            "run": self.run_dir.name,
            "run_dir": str(self.run_dir),
            "host": socket.gethostname(),
            "user": _user(),
            "due": self.due.isoformat() if self.due else None,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "duration": (self.finished - self.started).total_seconds(),
            "outcome": self.outcome,
            "interrupted_by": (
                signal.Signals(self.interrupted_by).name
                if self.interrupted_by is not None
                else None
            ),
            "on_failure": self.game_day.on_failure,
            "passed": sum(result.passed for result in self.results),
            "total": len(self.results),
            "score": self.score,
            "score_definition": SCORE_DEFINITION,
            "drills": [result.to_json() for result in self.results],
        }
