"""The game-day file as values: what to run, when, and what to do on failure."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from chaosext.gameday.cron import CronSchedule

__all__ = [
    "DEFAULT_STARTING_DEADLINE",
    "Drill",
    "GameDay",
    "Webhook",
    "var_argument",
]

OnFailure = Literal["stop", "continue"]
Concurrency = Literal["forbid", "allow"]
NotifyWhen = Literal["failure", "success", "always"]

# A run whose due time is more than this late (the machine slept, the clock
# jumped) is logged as missed and not started; Kubernetes' startingDeadlineSeconds.
DEFAULT_STARTING_DEADLINE = 60


@dataclass(frozen=True)
class Drill:
    """One Chaos Toolkit experiment of a game day, with its var files and vars."""

    name: str
    experiment: Path
    var_files: tuple[Path, ...] = ()
    vars: dict[str, object] = field(default_factory=dict)

    def chaos_arguments(self) -> list[str]:
        """`--var-file F ... --var k[:type]=v ...` for `chaos run`."""
        arguments: list[str] = []
        for var_file in self.var_files:
            arguments += ["--var-file", str(var_file)]
        for key, value in self.vars.items():
            arguments += ["--var", var_argument(key, value)]
        return arguments


def var_argument(key: str, value: object) -> str:
    """`key[:type]=value` as `chaos run --var` parses it, keeping the YAML type."""
    if isinstance(value, bool):
        return f"{key}:bool={'true' if value else 'false'}"
    if isinstance(value, int):
        return f"{key}:int={value}"
    if isinstance(value, float):
        return f"{key}:float={value!r}"
    if isinstance(value, str):
        return f"{key}={value}"
    return f"{key}:json={json.dumps(value)}"


@dataclass(frozen=True)
class Webhook:
    """POST the game-day summary to `url` when the outcome matches `on`."""

    url: str
    on: frozenset[NotifyWhen] = frozenset({"failure"})

    def wants(self, passed: bool) -> bool:
        """Whether a game day with this outcome is to be posted."""
        return "always" in self.on or ("success" if passed else "failure") in self.on


@dataclass(frozen=True)
class GameDay:
    """A validated game-day file; every path in it is absolute."""

    path: Path
    name: str
    schedule: CronSchedule
    drills: tuple[Drill, ...]
    description: str = ""
    on_failure: OnFailure = "stop"
    concurrency: Concurrency = "forbid"
    notify: tuple[Webhook, ...] = ()
    journals_dir: Path | None = None
    starting_deadline_seconds: int = DEFAULT_STARTING_DEADLINE

    @property
    def timezone(self) -> str:
        """The IANA name of the schedule's time zone."""
        return self.schedule.timezone.key
