"""The archive on disk: where it is, how a journal enters it, how it is read.

Layout: `<dir>/<UTC start>-<experiment>-<sha256[:12]>.json` per journal and
`<dir>/ledger.jsonl`. Archiving writes the journal atomically, then, holding the
archive lock, gives it its final name and appends its ledger line (the ledger is
rewritten atomically too). A crash between the two leaves a journal without a
ledger line, which `verify` reports as "unrecorded": evidence is never lost.

Besides the journal of each finished run (`event` "finished", or no `event` in
lines written before events existed), the ledger holds two kinds of record,
each a small journal file of its own so `verify` covers them alike: "started",
written before a run's first change (who, what, target, run id), and
"recovered", written by `meshdrill recover` with what it restored and for which
runs. `runs` folds them into one row per run: a run that started and never
finished (killed) shows as unfinished, and as recovered once recover did so.
"""

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from chaosext.journals import atomic, ledger, provenance, redact

DIR_ENV = "MESHDRILL_JOURNALS_DIR"
DIR_OPTION = "journals_dir"
DEFAULT_DIR = "journals"

FINISHED = "finished"
STARTED = "started"
RECOVERED = "recovered"


class ArchiveError(Exception):
    """The archive cannot be used; the message names the path at fault."""


def resolve_dir(
    cli: str | None = None,
    configuration: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """CLI `--dir` > configuration `journals_dir` > $MESHDRILL_JOURNALS_DIR > ./journals

    The control has no CLI value; the `meshdrill journals` commands no configuration.
    """
    environ = os.environ if environ is None else environ
    for value in (cli, (configuration or {}).get(DIR_OPTION), environ.get(DIR_ENV)):
        if isinstance(value, str) and value:
            return Path(value).expanduser()
    return Path(DEFAULT_DIR)


def ensure_dir(directory: Path) -> Path:
    """Create the archive directory if its parent exists; explain otherwise."""
    if directory.is_dir():
        return directory
    if directory.exists():
        raise ArchiveError(f"journals directory {directory} exists but is not a dir")
    if not directory.parent.is_dir():
        raise ArchiveError(
            f"journals directory {directory} cannot be created: its parent "
            f"{directory.parent} does not exist"
        )
    try:
        directory.mkdir()
    except FileExistsError:
        pass
    except OSError as exc:
        raise ArchiveError(
            f"journals directory {directory} cannot be created: {exc.strerror}"
        ) from exc
    return directory


def existing_dir(directory: Path) -> Path:
    """The archive directory for reading: it must exist."""
    if not directory.is_dir():
        raise ArchiveError(
            f"no journals archive at {directory} (use --dir, or set {DIR_ENV})"
        )
    return directory


class _Hashing:
    """A binary file wrapper that hashes what goes through it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _write_journal(
    journal: Mapping[str, Any], hashing: list[_Hashing]
) -> Callable[[BinaryIO], None]:
    def write(fh: BinaryIO) -> None:
        sink = _Hashing(fh)
        hashing.append(sink)
        text = _TextSink(sink)
        json.dump(journal, text, indent=2, ensure_ascii=False, default=redact.to_json)
        text.write("\n")
        text.flush()

    return write


class _TextSink:
    """`json.dump` writes many small str chunks: gather them, write UTF-8 blocks."""

    def __init__(self, sink: _Hashing, block: int = 1 << 16) -> None:
        self.sink = sink
        self.block = block
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.block:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self.parts:
            self.sink.write("".join(self.parts).encode("utf-8"))
            self.parts, self.size = [], 0


def _stamp(start: object) -> str:
    when = datetime.now(UTC)
    if isinstance(start, str):
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(start.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _free_name(directory: Path, stem: str) -> str:
    name, n = f"{stem}.json", 1
    while (directory / name).exists():
        n += 1
        name = f"{stem}-{n}.json"
    return name


@dataclass(frozen=True)
class Archived:
    path: Path
    entry: dict[str, Any]


def store(
    directory: Path,
    journal: Mapping[str, Any],
    fields: Mapping[str, Any],
    experiment_name: str,
) -> Archived:
    """Write an already redacted journal into the archive and chain its ledger line."""
    ensure_dir(directory)
    sinks: list[_Hashing] = []
    temp = atomic.write_temp(directory, _write_journal(journal, sinks))
    digest = sinks[0].digest.hexdigest()
    stem = f"{_stamp(journal.get('start'))}-{experiment_name}-{digest[:12]}"
    ledger_path = directory / ledger.LEDGER_NAME
    try:
        with atomic.locked(directory):
            final = directory / _free_name(directory, stem)
            atomic.publish(temp, final)
            old = ledger_path.read_bytes() if ledger_path.exists() else b""
            try:
                last = ledger.last_entry(old)
            except ValueError as exc:
                raise ArchiveError(
                    f"{ledger_path}: {exc}; {final.name} was archived without a "
                    "ledger line (run `meshdrill journals verify`)"
                ) from exc
            entry = ledger.seal(
                {**fields, "journal": final.name, "journal_sha256": digest},
                seq=last["seq"] + 1 if last else 1,
                prev=last["line_sha256"] if last else ledger.GENESIS,
            )
            if old and not old.endswith(b"\n"):
                old += b"\n"
            atomic.write_bytes(ledger_path, old + ledger.encode_line(entry))
    finally:
        temp.unlink(missing_ok=True)
    return Archived(final, entry)


def archive_journal(
    journal: Mapping[str, Any],
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    *,
    directory: Path | None = None,
    environ: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
    event: str = FINISHED,
    extra: Mapping[str, Any] | None = None,
) -> Archived:
    """Redact a run's journal (or a record, per `event`), archive it, chain it."""
    environ = os.environ if environ is None else environ
    argv = sys.argv if argv is None else argv
    directory = directory or resolve_dir(None, configuration, environ)
    clean, scrubber = redact.redact_journal(journal, configuration, secrets)
    info = provenance.fields(journal, clean.get("experiment") or {}, environ, argv)
    notes = journal.get("meshdrill")
    if isinstance(notes, Mapping) and isinstance(notes.get("target"), Mapping):
        info["target"] = dict(notes["target"])  # the lab, or kubeconfig and servers
    scrubbed = scrubber(info)
    assert isinstance(scrubbed, dict)
    info = {**scrubbed, **(extra or {}), "redactions": scrubber.count, "event": event}
    name = provenance.short_name(info["experiment_title"], info["experiment_path"])
    return store(
        directory, clean, info, name if event == FINISHED else f"{name}-{event}"
    )


def event_of(entry: Mapping[str, Any]) -> str:
    return str(entry.get("event") or FINISHED)


def entries(
    directory: Path, events: Sequence[str] | None = (FINISHED,)
) -> list[dict[str, Any]]:
    """The ledger's readable entries of these events (None: all), in order.

    Unreadable lines are skipped (`verify` reports them). By default only the
    journals of finished runs: the drills that reports show.
    """
    path = directory / ledger.LEDGER_NAME
    if not path.exists():
        return []
    found = [line.entry for line in ledger.parse(path.read_bytes()) if line.entry]
    if events is None:
        return found
    return [e for e in found if event_of(e) in events]


def runs(all_entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per run: its finished entry, or its started one; with `status`.

    `status` is the run's verdict (passed, failed, refused, interrupted,
    dry-run) once finished; `unfinished` for a run that started and has no
    finished journal (killed), with `recovered` and the recover record's seq
    when `meshdrill recover` restored changes of that run.
    """
    finished = {e.get("run_id"): e for e in all_entries if event_of(e) == FINISHED}
    recovered: dict[str, int] = {}
    for entry in all_entries:
        if event_of(entry) == RECOVERED:
            for run_id in entry.get("recovered_runs") or []:
                recovered.setdefault(str(run_id), int(entry["seq"]))
    rows: list[dict[str, Any]] = []
    for entry in all_entries:
        event = event_of(entry)
        run_id = entry.get("run_id")
        if event == FINISHED:
            rows.append({**entry, "status": str(entry.get("verdict") or "?")})
        elif event == STARTED and (run_id is None or run_id not in finished):
            status = "unfinished"
            if run_id in recovered:
                status += f", recovered (seq {recovered[run_id]})"
            rows.append({**entry, "status": status})
    return rows


def load_journal(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArchiveError(f"journal {path} is missing") from exc
    except ValueError as exc:
        raise ArchiveError(f"journal {path} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ArchiveError(f"journal {path} is not a JSON object")
    return value


def find(directory: Path, ident: str) -> dict[str, Any]:
    """A ledger entry by seq, file name, or a unique prefix of either digest/name."""
    found = entries(directory, None)
    if ident.isdigit() and len(ident) < 8:  # 20261121... is a name prefix
        matches = [e for e in found if e["seq"] == int(ident)]
    else:
        matches = [e for e in found if e["journal"] == ident]
        if not matches and len(ident) >= 6:
            matches = [
                e
                for e in found
                if e["journal"].startswith(ident)
                or e["journal_sha256"].startswith(ident)
            ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ArchiveError(f"no journal '{ident}' in the ledger of {directory}")
    raise ArchiveError(f"'{ident}' matches {len(matches)} journals in {directory}")
