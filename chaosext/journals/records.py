"""Ledger records that are not a finished run's journal: started, recovered.

A run writes "started" before its first change, so the audit trail shows it even
if the process is killed (`kill -9` leaves no journal); `meshdrill recover`
writes "recovered" with what it restored and the runs it belonged to. Each is a
small journal-shaped file archived like any journal (redacted, digested,
chained), so `journals verify` covers it.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chaosext.journals import archive, provenance

__all__ = ["recovered", "started"]


def started(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, Any] | None,
    secrets: Mapping[str, Any] | None,
    *,
    run_id: str,
    target: Mapping[str, Any],
    directory: Path | None = None,
) -> archive.Archived:
    """Archive the record that run `run_id` starts, against `target`."""
    servers = dict(target.get("servers") or {})
    record = {
        "experiment": dict(experiment),
        "start": provenance.utc_now(),
        "status": archive.STARTED,
        "meshdrill": {
            "event": archive.STARTED,
            "verdict": archive.STARTED,
            "run_id": run_id,
            "target": dict(target),
            "contexts": servers,
        },
    }
    return archive.archive_journal(
        record, configuration, secrets, directory=directory, event=archive.STARTED
    )


def recovered(
    changes: list[dict[str, Any]],
    failed: list[dict[str, Any]],
    *,
    kubeconfig: str,
    labs: list[dict[str, Any]] | None = None,
    directory: Path | None = None,
) -> archive.Archived:
    """Archive what `meshdrill recover` restored (and failed to), by run.

    `labs`: the labs of killed drills it stopped ({state_dir, run}); a private
    lab's changes went with it, so its run counts as recovered.
    """
    labs = labs or []
    runs = sorted(
        {str(c["run"]) for c in changes if c.get("undone")}
        | {str(lab["run"]) for lab in labs if lab.get("run")}
    )
    contexts = sorted({str(c["context"]) for c in [*changes, *failed]})
    record = {
        "experiment": {"title": "meshdrill recover"},
        "start": provenance.utc_now(),
        "status": "failed" if failed else "completed",
        "meshdrill": {
            "event": archive.RECOVERED,
            "verdict": "failed" if failed else "recovered",
            "kubeconfig": kubeconfig,
            "recovered_runs": runs,
            "restored": changes,
            "failed": failed,
            "labs_stopped": labs,
            "contexts": dict.fromkeys(contexts, ""),
        },
    }
    return archive.archive_journal(
        record,
        None,
        None,
        directory=directory,
        argv=[],
        event=archive.RECOVERED,
        extra={"recovered_runs": runs},
    )
