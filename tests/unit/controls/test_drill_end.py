"""The end of a run: restore, verdict and archive each run whatever the others do."""

import io
import json
from pathlib import Path
from typing import Any

import pytest

from chaosext import runcontext
from chaosext.controls import drill
from chaosext.journals import archive


def _journal() -> dict[str, Any]:
    return {
        "experiment": {"title": "region outage", "configuration": {}},
        "start": "2026-11-29T10:00:00+00:00",
        "status": "completed",
        "deviated": False,
        "steady_states": {"before": None, "after": None, "during": []},
        "run": [],
        "rollbacks": [],
    }


def test_a_broken_kubeconfig_at_the_end_is_recorded_and_archived(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kubeconfig turned unreadable: restore's failure is recorded, the run
    fails naming it, and the journal is archived all the same."""
    monkeypatch.setattr("sys.stderr", io.StringIO())
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("clusters: [unclosed\n")
    configuration: dict[str, Any] = {
        "kubeconfig": str(kubeconfig),
        "cluster_a_context": "prod-a",
        "journals_dir": str(tmp_path / "journals"),
        runcontext.KEY: runcontext.RunContext(run_id="run-1"),
    }
    journal = _journal()
    drill.after_experiment_control(
        journal["experiment"], state=journal, configuration=configuration
    )
    notes = journal["meshdrill"]
    (failed,) = notes["restore"]["failed"]
    assert failed["context"] == "prod-a"
    assert f"kubeconfig {kubeconfig} is not valid YAML" in failed["error"]
    assert notes["verdict"] == "failed"
    assert journal["status"] == "failed"
    assert any("could not restore" in r for r in notes["reasons"])
    (entry,) = archive.entries(tmp_path / "journals")
    archived = json.loads((tmp_path / "journals" / entry["journal"]).read_text())
    assert archived["meshdrill"]["restore"]["failed"] == [failed]


def test_an_archive_that_cannot_be_written_is_named_in_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No archive: the run still gets its verdict, and the summary says so."""
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    configuration: dict[str, Any] = {
        "journals_dir": str(tmp_path / "missing" / "journals"),
        runcontext.KEY: runcontext.RunContext(run_id="run-2", refused="bad input"),
    }
    journal = _journal()
    drill.after_experiment_control(
        journal["experiment"], state=journal, configuration=configuration
    )
    assert journal["meshdrill"]["verdict"] == "refused"
    assert journal["status"] == "refused"
    assert "meshdrill archived: not archived" in stderr.getvalue()
