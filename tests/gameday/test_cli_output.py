"""`gameday run -o json|yaml`: the game-day report alone on stdout."""

import argparse
import json
from pathlib import Path

import pytest
import yaml

from chaosext.gameday.cli import run_command
from tests.gameday.conftest import FakeRunner, failed_journal, passed_journal


def gameday_file(tmp_path: Path) -> Path:
    for name in ("first", "second"):
        (tmp_path / f"{name}.json").write_text("{}")
    path = tmp_path / "day.yaml"
    path.write_text(
        "name: out-day\nschedule: '@daily'\non_failure: continue\ndrills:\n"
        "  - experiment: first.json\n  - experiment: second.json\n"
    )
    return path


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_run_output_is_the_report_on_stdout(tmp_path, capsys, fmt):
    """stdout parses as the report; the summary table goes to stderr."""
    runner = FakeRunner(
        {"first": (0, passed_journal(0.4)), "second": (1, failed_journal("no 100%"))}
    )
    args = argparse.Namespace(
        file=str(gameday_file(tmp_path)),
        journals_dir=tmp_path / "journals",
        grace=5.0,
        no_progress=True,
        output=fmt,
    )
    assert run_command(args, runner=runner) == 1
    out, err = capsys.readouterr()
    report = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert report["gameday"] == "out-day"
    assert [d["name"] for d in report["drills"]] == ["first", "second"]
    assert report["score"] == 50.0
    assert report["drills"][0]["time_to_failover"] == 0.4
    assert "Resilience score" in err
