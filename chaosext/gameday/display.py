"""What a game-day run shows on the terminal: progress, then the summary table."""

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chaosext.gameday.model import Drill
from chaosext.gameday.summary import SCORE_DEFINITION, GameDayRun
from chaosext.gameday.verdicts import DrillResult

__all__ = ["DrillProgress", "print_summary", "summary_table"]

STYLES = {
    "passed": "bold green",
    "failed": "bold red",
    "error": "bold red",
    "interrupted": "bold yellow",
    "skipped": "dim",
}


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _line(result: DrillResult) -> str:
    style = STYLES[result.verdict]
    text = f"[{style}]{result.verdict}[/] {result.name}"
    if result.duration is not None:
        text += f" in {_seconds(result.duration)}"
    if result.reasons and not result.passed:
        text += f": {result.reasons[0]}"
    return text


class DrillProgress:
    """One line per drill as it ends; a live progress bar too when `live`."""

    def __init__(self, console: Console, name: str, total: int, live: bool) -> None:
        self.console = console
        self.name = name
        self.live = live
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID = self._progress.add_task(name, total=total)

    def __enter__(self) -> "DrillProgress":
        if self.live:
            self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live:
            self._progress.stop()

    def started(self, index: int, drill: Drill) -> None:
        """A drill begins."""
        self._progress.update(self._task, description=f"{self.name}: {drill.name}")
        if not self.live:
            self.console.print(f"{self.name}: drill {index + 1} {drill.name} started")

    def finished(self, result: DrillResult) -> None:
        """A drill ended, or was skipped."""
        self._progress.advance(self._task)
        self.console.print(f"{self.name}: {_line(result)}", highlight=False)


def summary_table(run: GameDayRun) -> Table:
    """Drill, verdict, duration, time to failover and reasons, one row per drill."""
    table = Table(title=f"Game day {run.game_day.name!r} ({run.outcome})")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Drill", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Time to failover", justify="right", no_wrap=True)
    table.add_column("Reasons", overflow="fold", ratio=1, min_width=12)
    for index, result in enumerate(run.results, start=1):
        table.add_row(
            str(index),
            result.name,
            f"[{STYLES[result.verdict]}]{result.verdict}[/]",
            _seconds(result.duration),
            _seconds(result.time_to_failover),
            "; ".join(result.reasons) or "-",
        )
    return table


def print_summary(console: Console, run: GameDayRun) -> None:
    """The table, the resilience score (and its definition) and where files went."""
    console.print(summary_table(run))
    passed = sum(result.passed for result in run.results)
    console.print(
        f"Resilience score: [bold]{run.score:g}%[/] "
        f"({passed} of {len(run.results)} drills passed)",
        highlight=False,
    )
    console.print(f"[dim]score = {SCORE_DEFINITION}[/]", highlight=False)
    console.print(f"Report: {run.report_path}", highlight=False)
    console.print(f"Journals and logs: {run.run_dir}", highlight=False)
