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
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from chaosext import clusters, runcontext
from chaosext.mesh import names

__all__ = [
    "RESTORE_KEY",
    "Held",
    "Plan",
    "RestoreRecord",
    "hold",
    "plan",
    "read_record",
    "record_patch",
    "run_id_of",
]

RESTORE_KEY = names.RESTORE
RUN_ID_KEY = "meshdrill_run_id"
"""A run id for a direct call outside a drill (scripts, tests); inside a drill the
run id is the RunContext's (`chaosext.runcontext`)."""

UNMANAGED_RUN = runcontext.UNMANAGED_RUN

HOLD_ATTEMPTS = 5
"""Reads of an object that keeps changing under `hold` before it gives up."""


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


def record_patch(record: RestoreRecord, **spec: Any) -> dict[str, Any]:
    """The patch writing `record` (and `spec`, if any, in the same write)."""
    body: dict[str, Any] = {"metadata": {"annotations": {RESTORE_KEY: record.dumps()}}}
    if spec:
        body["spec"] = spec
    return body


def hold(
    what: str,
    run_id: str,
    read: Callable[[], Any],
    write: Callable[[dict[str, Any]], object],
    body: Callable[[Any, RestoreRecord | None], dict[str, Any] | None],
    first: Any = None,
) -> tuple[Any, RestoreRecord | None]:
    """Record-then-change one object, as a patch conditional on what was read.

    `read()` gets the object (`first`, if given, stands for the first read);
    another run's record on it is refused (Held, naming the holder). `body(obj,
    record)` is the patch to send (`record`: this run's, if it already holds the
    object), or None for nothing to write. The patch carries the
    `metadata.resourceVersion` that was read, so the API server applies it to that
    version only and answers 409 Conflict otherwise: of two runs that read the
    object at once, exactly one becomes its holder. On a conflict the object is
    read and checked again, so the other run is refused naming the holder; a
    change by anyone else (a controller's status update) is retried.
    Returns the object as last read and the record now on it.
    """
    for attempt in range(HOLD_ATTEMPTS):
        obj = first if attempt == 0 and first is not None else read()
        record = read_record(obj.metadata.annotations)
        check_not_held(what, record, run_id)
        patch = body(obj, record)
        if patch is None:
            return obj, record
        metadata = patch.setdefault("metadata", {})
        metadata["resourceVersion"] = obj.metadata.resource_version
        try:
            write(patch)
        except clusters.Conflict:
            continue
        return obj, read_record(metadata.get("annotations")) or record
    raise clusters.Conflict(
        f"{what} changed each of the {HOLD_ATTEMPTS} times it was read and"
        " written; nothing was done to it, try again"
    )
