"""Real `meshdrill gameday run|schedule` on trivial Chaos Toolkit experiments.

Each drill is a real `chaos run` subprocess; no lab is needed.
"""

import itertools
import json
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.gameday import trivial
from tests.gameday.conftest import wait_for

TIMEOUT = 120


@pytest.fixture
def lab(tmp_path: Path) -> dict[str, Any]:
    """A marker directory (the system), experiments, and the subprocess env."""
    marker = tmp_path / "marker"
    marker.mkdir()
    trivial.write_json(tmp_path / "pass.json", trivial.passing(marker))
    trivial.write_json(tmp_path / "deviate.json", trivial.deviating(marker))
    trivial.write_json(
        tmp_path / "block.json",
        trivial.blocking(marker, tmp_path / "started", tmp_path / "restored"),
    )
    return {"dir": tmp_path, "marker": marker, "env": trivial.helper_env(tmp_path)}


def _game_day(lab: dict[str, Any], drills: list[str], **fields: Any) -> Path:
    entries = [
        {"experiment": f"{name}.json", "name": f"{index}-{name}"}
        for index, name in enumerate(drills, start=1)
    ]
    return trivial.write_game_day(lab["dir"] / "gd.yaml", entries, **fields)


def _command(verb: str, lab: dict[str, Any], path: Path) -> list[str]:
    journals = lab["dir"] / "journals"
    return [
        *trivial.meshdrill(),
        "gameday",
        verb,
        str(path),
        "--journals-dir",
        str(journals),
    ]


def _run(lab: dict[str, Any], drills: list[str], **fields: Any) -> tuple[int, str]:
    result = subprocess.run(
        [*_command("run", lab, _game_day(lab, drills, **fields)), "--no-progress"],
        env=lab["env"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return result.returncode, result.stdout + result.stderr


def _reports(lab: dict[str, Any]) -> list[dict[str, Any]]:
    folder = lab["dir"] / "journals" / "gamedays"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("gameday-*.json"))]


def _verdicts(report: dict[str, Any]) -> list[str]:
    return [drill["verdict"] for drill in report["drills"]]


def test_run_passes_exit_zero_with_a_journal_per_drill(lab: dict[str, Any]) -> None:
    """Two passing drills: exit 0, two journals in the run folder, summary shown."""
    code, out = _run(lab, ["pass", "pass"])
    assert code == 0, out
    (report,) = _reports(lab)
    assert _verdicts(report) == ["passed", "passed"]
    assert all(Path(drill["journal"]).is_file() for drill in report["drills"])
    assert "Resilience score: 100%" in out


def test_run_stop_skips_after_a_failed_drill_and_exits_one(lab: dict[str, Any]) -> None:
    """on_failure stop: the deviating drill fails (restored), the next is skipped."""
    code, out = _run(lab, ["deviate", "pass"], on_failure="stop")
    assert code == 1, out
    (report,) = _reports(lab)
    assert _verdicts(report) == ["failed", "skipped"]
    assert "steady state deviated" in report["drills"][0]["reasons"][0]
    assert lab["marker"].is_dir()  # the drill's rollback restored it


def test_run_continue_runs_the_rest_and_still_exits_one(lab: dict[str, Any]) -> None:
    """on_failure continue: the passing drill after the failure runs too."""
    code, out = _run(lab, ["deviate", "pass"], on_failure="continue")
    assert code == 1, out
    (report,) = _reports(lab)
    assert _verdicts(report) == ["failed", "passed"]
    assert report["score"] == 50.0


def test_sigint_is_forwarded_so_the_drill_restores_first(lab: dict[str, Any]) -> None:
    """Ctrl-C mid-drill: the drill's rollback runs, the rest skipped, exit 130."""
    path = _game_day(lab, ["block", "pass"])
    proc = subprocess.Popen(
        [*_command("run", lab, path), "--no-progress"],
        env=lab["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(lambda: (lab["dir"] / "started").exists() or proc.poll() is not None)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 130, out
    assert (lab["dir"] / "restored").is_dir()
    (report,) = _reports(lab)
    assert _verdicts(report) == ["interrupted", "skipped"]
    assert report["interrupted_by"] == "SIGINT"


def _schedule(lab: dict[str, Any], drills: list[str]) -> subprocess.Popen[str]:
    path = _game_day(lab, drills, schedule="*/2 * * * * *", concurrency="forbid")
    return subprocess.Popen(
        _command("schedule", lab, path),
        env=lab["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_schedule_runs_on_time_without_overlap_and_stops_on_sigterm(
    lab: dict[str, Any],
) -> None:
    """Every 2 s (seconds field): runs start at (never before) their due second, in
    order, never overlap under forbid, and SIGTERM ends the scheduler with exit 0."""
    proc = _schedule(lab, ["pass"])
    wait_for(lambda: len(_reports(lab)) >= 3 or proc.poll() is not None)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    reports = _reports(lab)
    assert len(reports) >= 3
    dues = [datetime.fromisoformat(r["due"]) for r in reports]
    starts = [datetime.fromisoformat(r["started"]) for r in reports]
    assert all(due.second % 2 == 0 and due.microsecond == 0 for due in dues)
    assert len(set(dues)) == len(dues)
    # never before its due time (how late, on a loaded machine, is a benchmark's
    # business, not a test's), and in due order
    assert all(s >= d for s, d in zip(starts, dues, strict=True))
    assert starts == sorted(starts)
    spans = sorted(
        zip(
            starts,
            (datetime.fromisoformat(r["finished"]) for r in reports),
            strict=True,
        )
    )
    assert all(
        end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans)
    )


def test_schedule_sigterm_lets_the_running_drill_restore(lab: dict[str, Any]) -> None:
    """SIGTERM while a drill blocks: it is forwarded, the rollback runs, exit 0."""
    proc = _schedule(lab, ["block"])
    wait_for(lambda: (lab["dir"] / "started").exists() or proc.poll() is not None)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, out
    assert (lab["dir"] / "restored").is_dir()
    (report,) = _reports(lab)
    assert report["outcome"] == "interrupted"
    assert "forwarded SIGTERM" in out
