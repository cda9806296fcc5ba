"""Who ran a drill, from where, with which experiment and tools: ledger fields.

The experiment's path is not in the experiment Chaos Toolkit hands to controls,
so it is looked up in this order: `experiment["source"]` (if a loader put one
there), the `MESHDRILL_EXPERIMENT_PATH` environment variable (for runners that
call chaoslib in-process), then the command line of `chaos run ... SOURCE`.
"""

import getpass
import os
import re
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from chaosext.journals import ledger, phases

EXPERIMENT_ENV = "MESHDRILL_EXPERIMENT_PATH"
# `chaos` and `chaos run` options that take a value (chaostoolkit 1.19)
_VALUE_OPTIONS = {
    "--settings",
    "--change-dir",
    "--log-file",
    "--log-file-level",
    "--log-format",
    "--journal-path",
    "--dry",
    "--rollback-strategy",
    "--var",
    "--var-file",
    "--control-file",
    "--hypothesis-strategy",
    "--hypothesis-frequency",
}


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def versions(journal: Mapping[str, Any]) -> dict[str, str]:
    from chaosext import __version__

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    return {
        "meshdrill": __version__,
        "chaostoolkit": installed("chaostoolkit"),
        "chaoslib": str(
            journal.get("chaoslib-version") or installed("chaostoolkit-lib")
        ),
    }


def source_from_argv(argv: Sequence[str]) -> str | None:
    """The SOURCE of `chaos [opts] run [opts] SOURCE [opts]`, if this is one."""
    if "run" not in argv[1:]:
        return None
    args = list(argv[argv.index("run", 1) + 1 :])
    positional = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            positional.append(arg)
    return positional[0] if len(positional) == 1 else None


def experiment_source(
    experiment: Mapping[str, Any],
    environ: Mapping[str, str],
    argv: Sequence[str],
) -> tuple[str | None, str]:
    """(path or URL, how it was found); (None, "unknown") when nothing says."""
    for value, how in (
        (experiment.get("source"), "experiment"),
        (environ.get(EXPERIMENT_ENV), "environment"),
        (source_from_argv(argv), "command line"),
    ):
        if isinstance(value, str) and value:
            if "://" not in value and Path(value).exists():
                value = str(Path(value).resolve())
            return value, how
    return None, "unknown"


def experiment_digest(path: str | None, redacted: Mapping[str, Any]) -> tuple[str, str]:
    """SHA-256 of the experiment file's bytes, else of the archived (redacted) copy."""
    if path and "://" not in path:
        try:
            return ledger.sha256_hex(Path(path).read_bytes()), "file"
        except OSError:
            pass
    return ledger.sha256_hex(ledger.canonical(redacted)), "journal"


def short_name(title: str, path: str | None) -> str:
    """A file-name-safe experiment name: the file's stem, else the title."""
    base = Path(path.rsplit("/", 1)[-1]).stem if path else title
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("_.-")
    return slug[:48] or "experiment"


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 3) if value == value else None  # NaN -> None
    return None


def fields(
    journal: Mapping[str, Any],
    redacted_experiment: Mapping[str, Any],
    environ: Mapping[str, str],
    argv: Sequence[str],
) -> dict[str, Any]:
    """Ledger fields for a journal, except the journal's own name and digest."""
    experiment = journal.get("experiment") or {}
    path, path_from = experiment_source(experiment, environ, argv)
    digest, digest_of = experiment_digest(path, redacted_experiment)
    verdict, verdict_from = phases.verdict(journal)
    meshdrill = journal.get("meshdrill")
    return {
        "time": utc_now(),
        "user": user(),
        "host": socket.gethostname(),
        "experiment_title": str(experiment.get("title", "")),
        "experiment_path": path,
        "experiment_path_from": path_from,
        "experiment_sha256": digest,
        "experiment_sha256_of": digest_of,
        "contexts": phases.contexts(journal),
        "versions": versions(journal),
        "verdict": verdict,
        "verdict_from": verdict_from,
        "run_id": meshdrill.get("run_id") if isinstance(meshdrill, Mapping) else None,
        "status": journal.get("status"),
        "deviated": bool(journal.get("deviated")),
        "started": journal.get("start"),
        "ended": journal.get("end"),
        "duration": _number(journal.get("duration")),
    }
