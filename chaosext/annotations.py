"""Restore records: what an action writes onto an object before it changes it.

Every action first writes the annotation `meshdrill.io/restore` onto the object it
is about to change, holding the run that changed it and the prior state. Anyone
can then undo the change from the object alone (the rollbacks, the restore
control, `meshdrill recover` after a kill -9), and a second drill can see that
the object is held and refuse to touch it.
"""

import getpass
import json
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from chaosext.mesh import names

__all__ = [
    "RESTORE_KEY",
    "Held",
    "Plan",
    "RestoreRecord",
    "plan",
    "read_record",
    "run_id_of",
]

RESTORE_KEY = names.RESTORE
RUN_ID_KEY = "meshdrill_run_id"
"""Configuration key under which the restore control publishes the run id."""

UNMANAGED_RUN = "unmanaged"

DRY_RUN_KEY = "meshdrill_dry_run"
"""Configuration key set during `--dry` runs: actions plan, and change nothing."""


class Held(Exception):
    """The object carries another run's restore record."""


@dataclass(frozen=True)
class RestoreRecord:
    run: str
    action: str
    prior: dict[str, Any]
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    by: str = field(default_factory=lambda: f"{_user()}@{socket.gethostname()}")

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    def describe(self) -> str:
        return f"run {self.run} ({self.action} at {self.at} by {self.by})"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def read_record(annotations: Mapping[str, str] | None) -> RestoreRecord | None:
    """The restore record in an object's annotations, or None.

    A malformed record raises ValueError: it must never be silently ignored.
    """
    raw = (annotations or {}).get(RESTORE_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        return RestoreRecord(
            run=str(data["run"]),
            action=str(data["action"]),
            prior=dict(data["prior"]),
            at=str(data.get("at", "")),
            by=str(data.get("by", "")),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"malformed annotation {RESTORE_KEY}: {raw!r}") from exc


def run_id_of(configuration: Mapping[str, Any] | None) -> str:
    """This run's id, published by the restore control, or 'unmanaged'."""
    return str((configuration or {}).get(RUN_ID_KEY) or UNMANAGED_RUN)


def is_dry_run(configuration: Mapping[str, Any] | None) -> bool:
    return bool((configuration or {}).get(DRY_RUN_KEY))


class Plan(TypedDict):
    """A dry run's answer: what an action would change, where; nothing written."""

    dry_run: bool
    context: str
    server: str
    changes: list[str]


def plan(context: str, server: str, changes: list[str]) -> Plan:
    return Plan(dry_run=True, context=context, server=server, changes=changes)


def check_not_held(what: str, record: RestoreRecord | None, run_id: str) -> None:
    """Refuse to act on an object that another run holds."""
    if record is not None and record.run != run_id:
        raise Held(
            f"{what} is held by another drill: {record.describe()}; restore it with"
            " `meshdrill recover` once that drill is gone"
        )
