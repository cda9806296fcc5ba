"""An append-only JSON-lines record that a long-running lab cannot grow without
bound: a line that would take the file past its cap first moves the file to
`<name>.1` (replacing the older part), so the record keeps at most twice the cap
on disk however long the lab runs. Readers read the older part first
(`read_records`)."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

MAX_BYTES = 16 * 1024 * 1024
"""The default cap of one part (16 MiB)."""


def rotated(path: Path) -> Path:
    """Where the previous part of a capped record goes (`<name>.1`)."""
    return path.with_name(path.name + ".1")


class CappedLog:
    """Appends one JSON object per line to `path`, line-buffered (each line is on
    disk as soon as it is written), within `max_bytes` a part."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._file: TextIO | None = None
        self._size = 0

    def start_anew(self) -> None:
        """Empty the record (both parts) and keep it open for writing."""
        self.close()
        rotated(self.path).unlink(missing_ok=True)
        self._file = open(self.path, "w", buffering=1, encoding="utf-8")  # noqa: SIM115
        self._size = 0

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        if self._file is None:
            self._file = open(self.path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            self._size = self._file.tell()
        if self._size and self._size + len(line) > self.max_bytes:
            self._file.close()
            os.replace(self.path, rotated(self.path))
            self._file = open(self.path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            self._size = 0
        self._file.write(line)
        self._size += len(line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record kept at `path`, oldest first: the rotated part, then the
    current file (nothing if neither exists)."""
    for part in (rotated(path), path):
        if part.exists():
            for line in part.read_text(encoding="utf-8").splitlines():
                if line:
                    yield json.loads(line)
