"""The ledger: one JSON line per archived journal, each line chained to the last.

Pure functions only (canonical JSON, digests, sealing and parsing lines), so the
hashing rules live in one place and can be property-tested with plain values.

A line is the canonical JSON (sorted keys, no spaces, UTF-8) of an entry whose
`line_sha256` is the SHA-256 of the canonical JSON of the same entry without
`line_sha256`. Each entry's `prev` is the `line_sha256` of the line before it, or
`GENESIS` for the first line.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEDGER_NAME = "ledger.jsonl"
GENESIS = "0" * 64
REQUIRED: dict[str, type] = {
    "seq": int,
    "journal": str,
    "journal_sha256": str,
    "prev": str,
    "line_sha256": str,
}


def canonical(value: Any) -> bytes:
    """The one byte form that digests are computed over."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def line_digest(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON, leaving out `line_sha256` itself."""
    return sha256_hex(canonical({k: v for k, v in entry.items() if k != "line_sha256"}))


def seal(fields: Mapping[str, Any], seq: int, prev: str) -> dict[str, Any]:
    """Return the ledger entry for `fields` as line `seq`, chained after `prev`."""
    entry = {k: v for k, v in fields.items() if k != "line_sha256"}
    entry["seq"] = seq
    entry["prev"] = prev
    entry["line_sha256"] = line_digest(entry)
    return entry


def encode_line(entry: Mapping[str, Any]) -> bytes:
    return canonical(entry) + b"\n"


@dataclass(frozen=True)
class Line:
    """One physical line of a ledger file, parsed or not."""

    number: int  # 1-based position in the file
    raw: bytes
    entry: dict[str, Any] | None
    error: str | None  # why `entry` is None, or why the line is not canonical

    @property
    def label(self) -> str:
        seq = self.entry.get("seq") if self.entry else None
        return f"ledger line {self.number}" + (f" (seq {seq})" if seq else "")


def parse_line(number: int, raw: bytes) -> Line:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Line(number, raw, None, f"not valid JSON ({exc})")
    if not isinstance(value, dict):
        return Line(number, raw, None, "not a JSON object")
    for field, kind in REQUIRED.items():
        if not isinstance(value.get(field), kind) or isinstance(value[field], bool):
            return Line(number, raw, None, f"field '{field}' missing or not {kind}")
    if canonical(value) != raw:
        return Line(number, raw, value, "not in canonical form")
    return Line(number, raw, value, None)


def parse(data: bytes) -> list[Line]:
    """Split a ledger file into lines; a missing final newline is tolerated."""
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    return [parse_line(i, chunk) for i, chunk in enumerate(chunks, start=1)]


def last_entry(data: bytes) -> dict[str, Any] | None:
    """The last entry of a ledger (None when empty); raise ValueError if unusable."""
    body = data[:-1] if data.endswith(b"\n") else data
    if not body:
        return None
    last = parse_line(body.count(b"\n") + 1, body[body.rfind(b"\n") + 1 :])
    if last.entry is None or last.error:
        raise ValueError(f"{last.label} is {last.error}")
    return last.entry
