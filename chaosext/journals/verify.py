"""Verify an archive: every journal matches its ledger line and the chain is whole.

`check` is pure (ledger bytes and journal digests in, problems out); `verify_dir`
reads a directory. The export module feeds `check` from a tarball.
"""

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chaosext.journals import ledger


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an archive, named for the file or ledger line at fault."""

    kind: str  # modified missing unrecorded duplicate edited malformed chain order head
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


@dataclass
class Result:
    entries: int = 0
    journals: int = 0
    head: str | None = None  # line_sha256 of the last line, to record elsewhere
    head_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_line(
    line: ledger.Line, expected_seq: int, expected_prev: str | None
) -> list[Problem]:
    assert line.entry is not None
    entry = line.entry
    problems = []
    if line.error:
        problems.append(Problem("edited", line.label, line.error))
    if ledger.line_digest(entry) != entry["line_sha256"]:
        problems.append(
            Problem("edited", line.label, "line_sha256 does not match the line")
        )
    if entry["seq"] != expected_seq:
        problems.append(
            Problem(
                "order",
                line.label,
                f"expected seq {expected_seq}: lines reordered, removed or inserted",
            )
        )
    if expected_prev is not None and entry["prev"] != expected_prev:
        problems.append(
            Problem(
                "chain",
                line.label,
                "prev does not match the line before it "
                "(that line rewritten, or lines removed, reordered or inserted)",
            )
        )
    return problems


def check(
    ledger_data: bytes,
    digests: Mapping[str, str],
    *,
    first_prev: str = ledger.GENESIS,
    first_seq: int = 1,
    head: str | None = None,
) -> Result:
    """Check a ledger against the journals present (file name -> SHA-256 hex)."""
    result = Result(journals=len(digests))
    lines = ledger.parse(ledger_data)
    result.entries = len(lines)
    expected_prev: str | None = first_prev
    recorded: dict[str, str] = {}
    digests_seen: set[str] = set()
    for offset, line in enumerate(lines):
        if line.entry is None:
            result.problems.append(Problem("malformed", line.label, str(line.error)))
            expected_prev = None  # cannot tell what the next prev should be
            continue
        entry = line.entry
        result.problems.extend(_check_line(line, first_seq + offset, expected_prev))
        expected_prev = entry["line_sha256"]
        digests_seen.add(entry["line_sha256"])
        result.head, result.head_seq = entry["line_sha256"], entry["seq"]
        name = entry["journal"]
        if name in recorded:
            result.problems.append(
                Problem("duplicate", name, f"named again by {line.label}")
            )
            continue
        recorded[name] = line.label
        actual = digests.get(name)
        if actual is None:
            result.problems.append(
                Problem("missing", name, f"in {line.label} but not in the archive")
            )
        elif actual != entry["journal_sha256"]:
            result.problems.append(
                Problem(
                    "modified",
                    name,
                    f"sha256 {actual[:12]}..., {line.label} says "
                    f"{entry['journal_sha256'][:12]}...",
                )
            )
    for name in sorted(set(digests) - set(recorded)):
        result.problems.append(
            Problem(
                "unrecorded",
                name,
                "no ledger line names it (inserted, or written by a run that "
                "crashed before its ledger line)",
            )
        )
    if head is not None and not any(d.startswith(head.lower()) for d in digests_seen):
        result.problems.append(
            Problem("head", head, "no ledger line has this line_sha256 (truncated?)")
        )
    return result


def journal_names(directory: Path) -> list[str]:
    """Archived journal files: every visible *.json in the directory."""
    return sorted(
        entry.name
        for entry in os.scandir(directory)
        if entry.is_file() and entry.name.endswith(".json") and entry.name[0] != "."
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_dir(directory: Path, head: str | None = None) -> Result:
    """Verify the archive in `directory` (its ledger and every journal file)."""
    ledger_path = directory / ledger.LEDGER_NAME
    data = ledger_path.read_bytes() if ledger_path.exists() else b""
    digests = {name: file_sha256(directory / name) for name in journal_names(directory)}
    return check(data, digests, head=head)
