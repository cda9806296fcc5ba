"""Run a game day now: its drills one after another, then the report.

Each drill is its own `chaos run` process (see executor), so meshdrill's controls,
archiving and restore apply exactly as when a person runs it. The run folder
`<journals>/gamedays/<UTC time>-<game day>/` keeps each drill's journal
(`NN-<drill>.journal.json`) and output (`.log`, `.chaos.log`); the report goes
beside it as `gameday-<UTC time>-<game day>.json`.
"""

import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from chaosext.gameday import notify, verdicts
from chaosext.gameday.display import DrillProgress, print_summary
from chaosext.gameday.executor import ExperimentRunner, Interrupt, run_with_chaos
from chaosext.gameday.model import Drill, GameDay
from chaosext.gameday.summary import GameDayRun

__all__ = ["JOURNALS_ENV", "journals_dir_for", "run_game_day"]

log = logging.getLogger("meshdrill.gameday")

JOURNALS_ENV = "MESHDRILL_JOURNALS_DIR"


def journals_dir_for(game_day: GameDay, override: Path | None = None) -> Path:
    """--journals-dir, else the file's journals_dir, else $MESHDRILL_JOURNALS_DIR,
    else ./journals."""
    chosen = override or game_day.journals_dir or os.environ.get(JOURNALS_ENV)
    return Path(chosen or "journals").resolve()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.") or "gameday"


def _run_dir(journals: Path, game_day: GameDay, started: datetime) -> Path:
    """A new, unique folder for this run (parallel runs may start the same second)."""
    base = f"{started:%Y%m%dT%H%M%SZ}-{_slug(game_day.name)}"
    parent = journals / "gamedays"
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        candidate = parent / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"cannot create a run folder for {base} in {parent}")


def _read_journal(path: Path) -> dict[str, Any] | None:
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return journal if isinstance(journal, dict) else None


def _write_atomically(path: Path, document: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _environment(game_day: GameDay, journals: Path, run_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[JOURNALS_ENV] = str(journals)
    env["MESHDRILL_GAMEDAY"] = game_day.name
    env["MESHDRILL_GAMEDAY_RUN"] = run_dir.name
    return env


def _run_drill(
    drill: Drill,
    index: int,
    run_dir: Path,
    journals: Path,
    env: dict[str, str],
    runner: ExperimentRunner,
    interrupt: Interrupt,
) -> verdicts.DrillResult:
    stem = f"{index + 1:02d}-{_slug(drill.name)}"
    journal_path = run_dir / f"{stem}.journal.json"
    log_path = run_dir / f"{stem}.log"
    # the game day's journals dir wins over any var file's, like the environment
    with_journals = Drill(
        drill.name,
        drill.experiment,
        drill.var_files,
        {**drill.vars, "journals_dir": str(journals)},
    )
    started = datetime.now(UTC)
    try:
        code = runner(with_journals, journal_path, log_path, env, interrupt)
    except OSError as exc:
        return verdicts.DrillResult(
            drill.name,
            str(drill.experiment),
            "error",
            (f"could not run the drill: {exc}",),
            started=started,
            finished=datetime.now(UTC),
        )
    finished = datetime.now(UTC)
    journal = _read_journal(journal_path)
    verdict, reasons = verdicts.judge(code, journal, str(log_path))
    if interrupt.requested:
        verdict = "interrupted"
        reasons.insert(0, f"interrupted by {interrupt.signal_name}")
    return verdicts.DrillResult(
        name=drill.name,
        experiment=str(drill.experiment),
        verdict=verdict,
        reasons=tuple(reasons),
        exit_code=code,
        started=started,
        finished=finished,
        time_to_failover=verdicts.time_to_failover(journal),
        journal=str(journal_path) if journal is not None else None,
        log=str(log_path),
    )


def run_game_day(
    game_day: GameDay,
    *,
    console: Console,
    interrupt: Interrupt | None = None,
    journals_dir: Path | None = None,
    runner: ExperimentRunner = run_with_chaos,
    live: bool = True,
    due: datetime | None = None,
) -> GameDayRun:
    """Run the drills of `game_day` in order, then report, summarise and notify.

    Honours `on_failure`; writes the report JSON, prints the summary on
    `console` and posts the report to the matching webhooks.

    `runner` runs one drill and returns its exit code (the real one starts
    `chaos run`); `live` shows a progress bar; `due` is the scheduled time, if any.
    """
    interrupt = interrupt or Interrupt()
    journals = journals_dir_for(game_day, journals_dir)
    started = datetime.now(UTC)
    run_dir = _run_dir(journals, game_day, started)
    env = _environment(game_day, journals, run_dir)
    results: list[verdicts.DrillResult] = []
    stop_reason: str | None = None
    stopped_by: int | None = None
    with DrillProgress(console, game_day.name, len(game_day.drills), live) as shown:
        for index, drill in enumerate(game_day.drills):
            if interrupt.requested and stopped_by is None:
                stopped_by = interrupt.signum
                stop_reason = f"not run: stopped by {interrupt.signal_name}"
            if stop_reason is not None:
                experiment = str(drill.experiment)
                result = verdicts.skipped(drill.name, experiment, stop_reason)
            else:
                shown.started(index, drill)
                result = _run_drill(
                    drill, index, run_dir, journals, env, runner, interrupt
                )
                if result.verdict == "interrupted":
                    stopped_by = interrupt.signum
                    stop_reason = f"not run: stopped by {interrupt.signal_name}"
                elif not result.passed and game_day.on_failure == "stop":
                    stop_reason = (
                        f"not run: drill {result.name!r} did not pass "
                        "(on_failure: stop)"
                    )
            results.append(result)
            shown.finished(result)
    run = GameDayRun(
        game_day=game_day,
        results=tuple(results),
        started=started,
        finished=datetime.now(UTC),
        run_dir=run_dir,
        report_path=run_dir.with_name(f"gameday-{run_dir.name}.json"),
        due=due,
        interrupted_by=stopped_by,
    )
    report = run.to_json()
    _write_atomically(run.report_path, report)
    print_summary(console, run)
    notify.notify(game_day.notify, report, run.passed)
    return run
