"""Crash-safe file writes and the archive lock.

A write goes to a hidden temporary file in the same directory, is flushed and
fsync'ed, then renamed over its final name (`os.replace`, atomic on POSIX), and
the directory is fsync'ed so the rename itself survives a crash. A reader sees the
old file or the new one, never half of one. A write that raises removes its
temporary file.
"""

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

LOCK_NAME = ".ledger.lock"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(directory: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write a hidden, fsync'ed temporary file in `directory`; remove it on error."""
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def publish(temp: Path, final: Path) -> None:
    """Move a finished temporary file to its final name and persist the rename."""
    try:
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(final.parent)


def write_bytes(path: Path, data: bytes) -> None:
    """Atomically replace `path` with `data`."""

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    publish(write_temp(path.parent, write), path)


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the archive's exclusive lock (serialises concurrent drills)."""
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
