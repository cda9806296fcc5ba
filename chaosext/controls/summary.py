"""Control piece: the end-of-run summary, on the terminal.

One table per run, after the verdict, the restore and the archive: per phase
the counts, the verdict with its interval, the time to fail over or recover and
the transition errors; then what was restored, the target, the journal and its
archived copy, and the run's status. On a terminal it is a rich table; when the
output is not a terminal (a CI log, a file) it is plain `meshdrill ...` lines.
"""

from collections.abc import Mapping
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from chaosext.controls import target as target_piece

__all__ = ["lines", "render"]


def render(
    notes: Mapping[str, Any],
    journal_path: str | None,
    stream: IO[str],
    width: int | None = None,
) -> None:
    """Write the summary of a run (its journal's `meshdrill` notes) to `stream`."""
    if not stream.isatty():
        for text in lines(notes, journal_path):
            stream.write(text + "\n")
        stream.flush()
        return
    console = Console(file=stream, width=width)
    table = Table(title=f"meshdrill: {_headline(notes)}", title_justify="left")
    for column in ("phase", "counts", "verdict (interval)", "transition", "errors"):
        table.add_column(column)
    for phase in notes.get("phases") or []:
        table.add_row(*_phase_cells(phase))
    console.print(table)
    for text in _footer(notes, journal_path):
        console.print(text, highlight=False, markup=False)


def lines(notes: Mapping[str, Any], journal_path: str | None) -> list[str]:
    """The summary as plain lines (one per phase, then the footer)."""
    out = [f"meshdrill summary: {_headline(notes)}"]
    for phase in notes.get("phases") or []:
        name, counts, verdict, transition, errors = _phase_cells(phase)
        out.append(
            f"meshdrill phase {name}: {counts}; {verdict}; transition {transition};"
            f" transition errors {errors}"
        )
    return out + [f"meshdrill {text}" for text in _footer(notes, journal_path)]


def _headline(notes: Mapping[str, Any]) -> str:
    status = notes.get("status") or notes.get("verdict") or "?"
    reasons = notes.get("reasons") or []
    return f"{status}" + (f": {reasons[0]}" if reasons else "")


def _phase_cells(phase: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    by = phase.get("by") or "cluster"
    counts = (phase.get("counts") or {}).get(by) or {}
    intervals = phase.get("intervals") or {}
    total = sum(counts.values()) if counts else 0
    count_text = ", ".join(f"{k} {v}/{total}" for k, v in sorted(counts.items())) or "-"
    interval_text = ", ".join(
        f"{k} [{lo:.1%}, {hi:.1%}]" for k, (lo, hi) in sorted(intervals.items())
    )
    verdict = str(phase.get("verdict") or "-")
    if interval_text:
        verdict += f" ({interval_text})"
    if phase.get("finding"):
        verdict += f": {phase['finding']}"
    seconds = phase.get("transition_seconds")
    transition = f"{seconds:.2f} s" if isinstance(seconds, int | float) else "-"
    errors = phase.get("transition_errors")
    if isinstance(errors, Mapping):
        error_text = ", ".join(f"{k} {v}" for k, v in errors.items()) or "0"
    else:
        error_text = "-" if errors is None else str(errors)
    return str(phase.get("name")), count_text, verdict, transition, error_text


def _footer(notes: Mapping[str, Any], journal_path: str | None) -> list[str]:
    restore = notes.get("restore") or {}
    restored = [
        f"{r.get('kind')} {r.get('namespace') or ''}/{r.get('name')}".replace(" /", " ")
        + f" ({r.get('context')})"
        for r in restore.get("restored") or []
    ]
    out = [
        "restored: " + (", ".join(restored) or "nothing left to restore"),
    ]
    for failed in restore.get("failed") or []:
        out.append(f"NOT restored: {failed}")
    for problem in notes.get("problems") or []:
        out.append(f"problem: {problem}")
    out.append(f"run id: {notes.get('run_id') or '-'}")
    out.append(f"journal: {journal_path or '-'}")
    out.append(f"archived: {notes.get('archived') or 'not archived'}")
    target = notes.get("target")
    if isinstance(target, Mapping):  # last, as it was first: what the run aimed at
        out.append("target: " + target_piece.line(target))
    return out
