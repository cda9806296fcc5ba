"""Export a slice of the archive as a tarball that verifies on its own.

The tarball holds `manifest.json`, `ledger.jsonl` (the ledger lines archived at
or after `--since`, byte for byte, so the slice is contiguous up to the head) and
`journals/<name>.json` for each. The manifest gives each file's SHA-256, the
slice's first seq and `first_prev` (the digest of the line before the slice, or
the genesis digest) and `head` (the last line's digest): compare `first_prev`
and `head` with the live ledger to tie the export to it.
"""

import io
import json
import tarfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from chaosext.journals import archive, atomic, ledger, provenance, verify

FORMAT = "meshdrill-journals-export/1"
MANIFEST = "manifest.json"
LEDGER = "ledger.jsonl"
JOURNALS = "journals/"


def parse_since(text: str) -> datetime:
    """A date (`2026-11-01`, midnight UTC) or an ISO time (naive means UTC)."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise archive.ArchiveError(
            f"--since '{text}' is not a date (YYYY-MM-DD) or ISO time"
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _time(entry: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_since(str(entry.get("time", "")))
    except archive.ArchiveError:
        return None


@dataclass(frozen=True)
class Exported:
    path: Path
    journals: int
    first_seq: int
    last_seq: int
    head: str


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def export(directory: Path, since: datetime, out: Path) -> Exported:
    """Write the slice of `directory` archived at or after `since` to `out`."""
    checked = verify.verify_dir(directory)
    if not checked.ok:
        raise archive.ArchiveError(
            f"{directory} does not verify ({len(checked.problems)} problem(s)); "
            "run `meshdrill journals verify` first"
        )
    lines = ledger.parse((directory / ledger.LEDGER_NAME).read_bytes())
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if line.entry and (t := _time(line.entry)) is not None and t >= since
        ),
        None,
    )
    if start is None:
        raise archive.ArchiveError(
            f"no journal archived in {directory} since {since.isoformat()}"
        )
    chosen = lines[start:]
    entries = [line.entry for line in chosen if line.entry]
    ledger_slice = b"".join(line.raw + b"\n" for line in chosen)
    files = {LEDGER: ledger_slice}
    for entry in entries:
        files[JOURNALS + entry["journal"]] = (directory / entry["journal"]).read_bytes()
    manifest = {
        "format": FORMAT,
        "created": provenance.utc_now(),
        "source": str(directory.resolve()),
        "since": since.isoformat(),
        "first_seq": entries[0]["seq"],
        "last_seq": entries[-1]["seq"],
        "first_prev": entries[0]["prev"],
        "head": entries[-1]["line_sha256"],
        "files": {name: ledger.sha256_hex(data) for name, data in files.items()},
    }
    now = time.time()

    def write(fh: BinaryIO) -> None:
        with tarfile.open(fileobj=fh, mode="w:gz") as tar:
            _add(tar, MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n", now)
            for name, data in files.items():
                _add(tar, name, data, now)

    if not out.parent.is_dir():
        raise archive.ArchiveError(f"cannot write {out}: {out.parent} is not a dir")
    atomic.publish(atomic.write_temp(out.parent, write), out)
    return Exported(
        out, len(entries), manifest["first_seq"], manifest["last_seq"], manifest["head"]
    )


def _read(path: Path) -> tuple[dict[str, bytes], list[verify.Problem]]:
    members: dict[str, bytes] = {}
    problems = []
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for info in tar:
                extracted = tar.extractfile(info) if info.isfile() else None
                if extracted is None:
                    problems.append(
                        verify.Problem("unexpected", info.name, "not a regular file")
                    )
                    continue
                members[info.name] = extracted.read()
    except (OSError, tarfile.TarError, EOFError) as exc:
        problems.append(verify.Problem("malformed", str(path), f"unreadable: {exc}"))
    return members, problems


def verify_export(path: Path) -> verify.Result:
    """Verify an export: manifest digests, then its ledger slice and journals."""
    members, problems = _read(path)
    try:
        manifest = json.loads(members.pop(MANIFEST))
        files: dict[str, str] = dict(manifest["files"])
        first_prev, first_seq = str(manifest["first_prev"]), int(manifest["first_seq"])
    except (KeyError, ValueError, TypeError) as exc:
        result = verify.Result()
        problem = verify.Problem("malformed", MANIFEST, f"missing or unreadable: {exc}")
        result.problems = [*problems, problem]
        return result
    for name in sorted(set(files) | set(members)):
        if name not in members:
            problems.append(verify.Problem("missing", name, "in the manifest only"))
        elif name not in files:
            problems.append(verify.Problem("unrecorded", name, "not in the manifest"))
        elif ledger.sha256_hex(members[name]) != files[name]:
            problems.append(
                verify.Problem("modified", name, "sha256 differs from the manifest")
            )
    digests = {
        name.removeprefix(JOURNALS): ledger.sha256_hex(data)
        for name, data in members.items()
        if name.startswith(JOURNALS)
    }
    result = verify.check(
        members.get(LEDGER, b""), digests, first_prev=first_prev, first_seq=first_seq
    )
    if result.head != manifest.get("head"):
        problems.append(
            verify.Problem("head", LEDGER, "the last line is not the manifest's head")
        )
    result.problems = problems + result.problems
    return result
