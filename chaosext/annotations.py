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

from chaosext import runcontext

__all__ = [
    "RESTORE_KEY",
    "Held",
    "Plan",
    "RestoreRecord",
    "plan",
    "read_record",
    "run_id_of",
]

RESTORE_KEY = "meshdrill.io/restore"
RUN_ID_KEY = "meshdrill_run_id"
"""A run id for a direct call outside a drill (scripts, tests); inside a drill the
run id is the RunContext's (`chaosext.runcontext`)."""

UNMANAGED_RUN = runcontext.UNMANAGED_RUN


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
    """This run's id (its RunContext's), or 'unmanaged' outside a drill."""
    context = runcontext.of(configuration)
    if context is not None:
        return context.run_id
    return str((configuration or {}).get(RUN_ID_KEY) or UNMANAGED_RUN)


def is_dry_run(configuration: Mapping[str, Any] | None) -> bool:
    """True when the run is dry: actions plan their changes and make none."""
    context = runcontext.of(configuration)
    return bool(context is not None and context.dry_run)


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
