"""Every run on record: started lines, unfinished runs, recover records."""

from pathlib import Path

from chaosext.journals import archive, cli, records, verify
from tests.journals import factory
from tests.journals.conftest import text

TARGET = {"kind": "lab", "topology": "guide-000", "servers": {"cluster-a": "https://a"}}


def _start(directory: Path, run_id: str) -> archive.Archived:
    return records.started(
        factory.experiment(), {}, {}, run_id=run_id, target=TARGET, directory=directory
    )


def _finish(directory: Path, run_id: str, verdict: str = "passed") -> None:
    journal = factory.journal(verdict=verdict)
    journal["meshdrill"]["run_id"] = run_id
    archive.archive_journal(journal, directory=directory, environ={}, argv=[])


def _change(run_id: str) -> dict[str, object]:
    return {
        "context": "cluster-a",
        "kind": "deployment",
        "namespace": "default",
        "name": "hello-world",
        "action": "scale_to_zero",
        "prior": {"replicas": 2},
        "run": run_id,
        "undone": True,
    }


def test_a_run_that_never_finished_shows_as_unfinished(archive_dir: Path) -> None:
    """A started line with no journal after it (kill -9) is listed as unfinished."""
    _start(archive_dir, "run-1")
    _finish(archive_dir, "run-1")
    _start(archive_dir, "run-2")
    rows = archive.runs(archive.entries(archive_dir, None))
    assert rows[1]["target"] == TARGET  # who, what, target, run id: on the line
    assert rows[1]["user"]
    assert rows[1]["experiment_title"]
    assert [(r["run_id"], r["status"]) for r in rows] == [
        ("run-1", "passed"),
        ("run-2", "unfinished"),
    ]


def test_recover_is_recorded_against_the_run(archive_dir: Path) -> None:
    """What recover restored names the run; the run shows as recovered."""
    _start(archive_dir, "run-2")
    done = records.recovered(
        [_change("run-2")], [], kubeconfig="/k", directory=archive_dir
    )
    assert done.entry["event"] == "recovered"
    assert done.entry["recovered_runs"] == ["run-2"]
    (row,) = archive.runs(archive.entries(archive_dir, None))
    assert row["status"] == f"unfinished, recovered (seq {done.entry['seq']})"


def test_records_verify_and_stay_out_of_reports(archive_dir: Path) -> None:
    """Start and recover records are chained and verified, but are not drills."""
    _start(archive_dir, "run-1")
    _finish(archive_dir, "run-1")
    records.recovered([_change("run-0")], [], kubeconfig="/k", directory=archive_dir)
    assert verify.verify_dir(archive_dir).ok
    assert [e["event"] for e in archive.entries(archive_dir)] == ["finished"]
    assert len(archive.entries(archive_dir, None)) == 3


def test_journals_list_has_a_status_column(archive_dir: Path, console) -> None:
    """`journals list` shows refused, interrupted and unfinished runs as such."""
    _start(archive_dir, "run-1")
    _finish(archive_dir, "run-1", verdict="interrupted")
    _finish(archive_dir, "run-2", verdict="refused")
    _start(archive_dir, "run-3")
    assert cli.run(["list", "--dir", str(archive_dir)], console) == 0
    out = text(console)
    assert "status" in out
    for status in ("interrupted", "refused", "unfinished"):
        assert status in out
    assert "have no ledger line" not in out
