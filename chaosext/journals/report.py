"""Terminal views of the archive (rich): list, show, verify, report."""

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from chaosext.journals import archive, phases, verify

VERDICT_STYLE = {
    "passed": "bold green",
    "failed": "bold red",
    "refused": "magenta",
    "interrupted": "bold yellow",
    "dry-run": "cyan",
}


@dataclass
class Drill:
    """A ledger entry with its journal (None when the file cannot be read)."""

    entry: dict[str, Any]
    journal: dict[str, Any] | None
    error: str | None = None

    @property
    def phases(self) -> list[phases.Phase]:
        return phases.phases(self.journal) if self.journal else []


def load(directory: Path) -> list[Drill]:
    drills = []
    for entry in archive.entries(directory):
        try:
            drills.append(
                Drill(entry, archive.load_journal(directory, entry["journal"]))
            )
        except archive.ArchiveError as exc:
            drills.append(Drill(entry, None, str(exc)))
    return drills


def game_days(directory: Path) -> list[dict[str, Any]]:
    """The game-day reports under `directory/gamedays`, oldest first.

    Each drill gets the `run_id` of its journal (read from the run folder), so the
    page can link it to the archived drill; unreadable files are skipped.
    """
    found = []
    for path in sorted((directory / "gamedays").glob("gameday-*.json")):
        try:
            run = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(run, dict) or run.get("kind") != "meshdrill-gameday-report":
            continue
        for drill in run.get("drills") or []:
            if isinstance(drill, dict):
                drill["run_id"] = _run_id(path.parent, run, drill.get("journal"))
        found.append(run)
    return found


def _run_id(folder: Path, run: Mapping[str, Any], journal: object) -> str | None:
    if not isinstance(journal, str):
        return None
    name = Path(journal).name
    for path in (Path(journal), folder / str(run.get("run")) / name):
        try:
            meshdrill = json.loads(path.read_text(encoding="utf-8")).get("meshdrill")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(meshdrill, dict) and meshdrill.get("run_id"):
            return str(meshdrill["run_id"])
    return None


def when(value: object) -> str:
    if not isinstance(value, str):
        return "?"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return parsed.strftime("%Y-%m-%d %H:%M:%SZ")


def duration(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "?"
    if value < 60:
        return f"{value:.1f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m {seconds:02d}s"


def experiment_label(entry: Mapping[str, Any]) -> str:
    path = entry.get("experiment_path")
    if isinstance(path, str) and path:
        return path.rsplit("/", 1)[-1]
    return str(entry.get("experiment_title") or "?")


def experiment_text(entry: Mapping[str, Any]) -> str:
    """Title and path (or "path unknown"), with the experiment's digest prefix."""
    path = entry.get("experiment_path") or "path unknown"
    digest = str(entry.get("experiment_sha256") or "")[:12]
    return f"{entry.get('experiment_title')} ({path}; sha256 {digest}...)"


def verdict_text(value: object) -> Text:
    return Text(str(value or "?"), style=VERDICT_STYLE.get(str(value), "yellow"))


def list_table(entries: Sequence[Mapping[str, Any]], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("seq", "when (UTC)", "experiment", "status", "duration"):
        table.add_column(column, no_wrap=True)
    table.add_column("clusters")
    table.add_column("by")
    for entry in entries:
        table.add_row(
            str(entry.get("seq")),
            when(entry.get("started") or entry.get("time")),
            experiment_label(entry),
            verdict_text(entry.get("status") or entry.get("verdict")),
            duration(entry.get("duration")),
            ", ".join(entry.get("contexts") or {}) or "-",
            f"{entry.get('user', '?')}@{entry.get('host', '?')}",
        )
    return table


def _counts(phase: phases.Phase, dimension: str) -> str:
    counts = phase.counts.get(dimension, {})
    if not counts and phase.finding:  # a phase that reads the mesh, not traffic
        return phase.finding
    total = sum(counts.values())
    return (
        "  ".join(
            f"{name} {n}" + (f" ({phases.percent(n, total)})" if total else "")
            for name, n in sorted(counts.items())
        )
        or "-"
    )


def _kinds(errors: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in errors.items()) or "-"


def phases_table(found: list[phases.Phase]) -> Table:
    dimension = phases.chart_dimension(found) or "cluster"
    table = Table(title=f"phases (per {dimension})", title_justify="left")
    table.add_column("phase", no_wrap=True)
    table.add_column(f"counts per {dimension}")
    table.add_column("transition", justify="right", no_wrap=True)
    table.add_column("errors")
    table.add_column("transition errors")
    for phase in found:
        seconds = phase.transition_seconds
        table.add_row(
            phase.name,
            _counts(phase, dimension),
            "-" if seconds is None else f"{seconds:.2f} s",
            _kinds(phase.errors),
            _kinds(phase.transition_errors),
        )
    return table


def show(console: Console, drill: Drill) -> None:
    entry, journal = drill.entry, drill.journal
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    verdict = verdict_text(entry.get("verdict"))
    verdict.append(f" ({entry.get('verdict_from', '?')})", style="dim")
    rows: list[tuple[str, str | Text]] = [
        ("journal", f"{entry['journal']} (seq {entry['seq']})"),
        ("experiment", experiment_text(entry)),
        ("verdict", verdict),
        ("status", f"{entry.get('status')}, deviated={entry.get('deviated')}"),
        ("started", f"{when(entry.get('started'))}, {duration(entry.get('duration'))}"),
        ("by", f"{entry.get('user')}@{entry.get('host')}"),
        (
            "versions",
            ", ".join(f"{k} {v}" for k, v in entry.get("versions", {}).items()),
        ),
    ]
    rows += [(f"context {k}", str(v)) for k, v in (entry.get("contexts") or {}).items()]
    for label, value in rows:
        facts.add_row(label, value)
    parts: list[Any] = [facts]
    if journal is not None:
        parts += [f"reason: {r}" for r in phases.reasons(journal)]
    console.print(Panel(Group(*parts), title=f"drill {entry['seq']}", expand=False))
    if drill.error:
        console.print(f"[red]{drill.error}[/red]")
    elif drill.phases:
        console.print(phases_table(drill.phases))
    else:
        console.print("no phase counts in this journal")


def print_verify(console: Console, result: verify.Result, what: str) -> None:
    for problem in result.problems:
        console.print(
            f"[red]{problem.kind}[/red] {problem.subject}: {problem.detail}",
            highlight=False,
        )
    if result.ok:
        console.print(
            f"[green]OK[/green] {what}: {result.entries} ledger line(s), "
            f"{result.journals} journal(s), chain unbroken",
            highlight=False,
        )
    else:
        console.print(
            f"[bold red]FAILED[/bold red] {what}: {len(result.problems)} problem(s)",
            highlight=False,
        )
    if result.head:
        console.print(f"head: seq {result.head_seq} line_sha256 {result.head}")


def _split_line(found: list[phases.Phase]) -> str:
    """`cluster-a/cluster-b: steady 51/49, failover 0/100` (shares in percent)."""
    dimension = phases.chart_dimension(found)
    if dimension is None:
        return ""
    names = phases.destinations(found, dimension)
    steps = [
        f"{p.name} "
        + "/".join(f"{100 * p.shares(dimension).get(n, 0):.0f}" for n in names)
        for p in found
        if sum(p.counts.get(dimension, {}).values())
    ]
    return f"{'/'.join(names)}: " + ", ".join(steps)


def summary(console: Console, drills: Sequence[Drill], title: str) -> None:
    verdicts = Counter(str(d.entry.get("verdict")) for d in drills)
    table = Table(title=title, title_justify="left")
    for column in ("seq", "when (UTC)", "experiment", "status", "duration"):
        table.add_column(column, no_wrap=True)
    table.add_column("split per phase (%)")
    for drill in drills:
        found = drill.phases
        table.add_row(
            str(drill.entry.get("seq")),
            when(drill.entry.get("started")),
            experiment_label(drill.entry),
            verdict_text(drill.entry.get("verdict")),
            duration(drill.entry.get("duration")),
            _split_line(found) or (drill.error or "-"),
        )
    console.print(table)
    line = ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    console.print(f"{len(drills)} drill(s): {line or 'none'}")
