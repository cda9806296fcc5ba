"""The game-day runner with a scripted drill runner: summary, score, stop/continue."""

import json
import logging
import signal
from pathlib import Path

import pytest
from rich.console import Console

from chaosext.gameday.executor import Interrupt
from chaosext.gameday.model import Drill, Webhook
from chaosext.gameday.runner import run_game_day
from tests.gameday.conftest import (
    FakeRunner,
    Sink,
    failed_journal,
    game_day,
    output,
    passed_journal,
)

THREE = ["alpha", "beta", "gamma"]


def _run(tmp_path: Path, console: Console, runner: FakeRunner, **kwargs):
    day = game_day(tmp_path, THREE, **kwargs)
    return run_game_day(
        day,
        console=console,
        journals_dir=tmp_path / "journals",
        runner=runner,
        live=False,
    )


def _outcomes(beta: tuple) -> dict:
    return {
        "alpha": (0, passed_journal(3.5)),
        "beta": beta,
        "gamma": (0, passed_journal()),
    }


def test_all_drills_pass_exit_zero_and_full_score(
    tmp_path: Path, console: Console
) -> None:
    """Every drill passed: exit 0, score 100%."""
    run = _run(tmp_path, console, FakeRunner(_outcomes((0, passed_journal()))))
    assert (run.exit_code, run.score, run.outcome) == (0, 100.0, "passed")
    assert "Resilience score: 100%" in output(console)


def test_stop_skips_the_drills_after_a_failure(
    tmp_path: Path, console: Console
) -> None:
    """on_failure stop: gamma is not run and is listed as skipped."""
    runner = FakeRunner(_outcomes((1, failed_journal("still 40% in cluster-a"))))
    run = _run(tmp_path, console, runner, on_failure="stop")
    assert runner.ran == ["alpha", "beta"]
    assert [r.verdict for r in run.results] == ["passed", "failed", "skipped"]
    assert "did not pass (on_failure: stop)" in run.results[2].reasons[0]
    assert run.exit_code == 1


def test_continue_runs_every_drill(tmp_path: Path, console: Console) -> None:
    """on_failure continue: all three run; the failure still makes exit 1."""
    runner = FakeRunner(_outcomes((1, failed_journal("leak"))))
    run = _run(tmp_path, console, runner, on_failure="continue")
    assert runner.ran == THREE
    assert [r.verdict for r in run.results] == ["passed", "failed", "passed"]
    assert run.exit_code == 1


@pytest.mark.parametrize(("on_failure", "score"), [("stop", 33.3), ("continue", 66.7)])
def test_score_counts_skipped_drills_as_not_passed(
    tmp_path: Path, console: Console, on_failure: str, score: float
) -> None:
    """Score = passed / all drills of the game day, in percent."""
    runner = FakeRunner(_outcomes((1, failed_journal("leak"))))
    assert _run(tmp_path, console, runner, on_failure=on_failure).score == score


def test_summary_table_shows_verdict_time_to_failover_and_reasons(
    tmp_path: Path, console: Console
) -> None:
    """The table holds each drill's row with its time to failover and reasons."""
    runner = FakeRunner(_outcomes((1, failed_journal("still 40% in cluster-a"))))
    _run(tmp_path, console, runner)
    text = output(console)
    assert "alpha" in text
    assert "3.5 s" in text
    assert "still 40% in cluster-a" in text
    assert "gamma" in text
    assert "skipped" in text


def test_report_json_lands_next_to_the_run_folder(
    tmp_path: Path, console: Console
) -> None:
    """gameday-<time>-<name>.json beside the folder holding each drill's journal."""
    run = _run(tmp_path, console, FakeRunner(_outcomes((0, passed_journal()))))
    report = json.loads(run.report_path.read_text())
    assert run.report_path.parent == tmp_path / "journals" / "gamedays"
    assert run.report_path.name == f"gameday-{run.run_dir.name}.json"
    assert report["outcome"] == "passed"
    assert report["total"] == 3
    assert report["drills"][0]["time_to_failover"] == 3.5
    assert Path(report["drills"][0]["journal"]).parent == run.run_dir


def test_drills_get_the_journals_dir_by_env_and_var(
    tmp_path: Path, console: Console
) -> None:
    """The archive control sees the game day's journals dir either way."""
    runner = FakeRunner(_outcomes((0, passed_journal())))
    _run(tmp_path, console, runner)
    drill, env = runner.calls[0]
    assert env["MESHDRILL_JOURNALS_DIR"] == str(tmp_path / "journals")
    assert drill.vars["journals_dir"] == str(tmp_path / "journals")


def test_missing_journal_is_an_error_verdict(tmp_path: Path, console: Console) -> None:
    """A drill that crashed without a journal is an error, not a pass."""
    run = _run(
        tmp_path, console, FakeRunner(_outcomes((0, None))), on_failure="continue"
    )
    assert run.results[1].verdict == "error"
    assert run.exit_code == 1


def test_runner_oserror_is_an_error_verdict(tmp_path: Path, console: Console) -> None:
    """A drill that cannot even start (chaos missing) is an error."""

    def broken(*args: object) -> int:
        raise FileNotFoundError("cannot find the `chaos` command")

    run = run_game_day(
        game_day(tmp_path, ["alpha"]),
        console=console,
        journals_dir=tmp_path / "j",
        runner=broken,
        live=False,
    )
    assert run.results[0].verdict == "error"
    assert "cannot find the `chaos` command" in run.results[0].reasons[0]


def test_signal_during_a_drill_interrupts_and_skips_the_rest(
    tmp_path: Path, console: Console
) -> None:
    """SIGTERM mid-drill: that drill is interrupted, the rest skipped, exit 143."""

    def stop_in_alpha(drill: Drill, interrupt: Interrupt) -> None:
        if drill.name == "alpha":
            interrupt.request(signal.SIGTERM)

    runner = FakeRunner(_outcomes((0, passed_journal())), during=stop_in_alpha)
    run = _run(tmp_path, console, runner, on_failure="continue")
    assert runner.ran == ["alpha"]
    assert [r.verdict for r in run.results] == ["interrupted", "skipped", "skipped"]
    assert run.results[1].reasons == ("not run: stopped by SIGTERM",)
    assert (run.exit_code, run.outcome) == (143, "interrupted")


def test_two_runs_in_the_same_second_get_their_own_folders(
    tmp_path: Path, console: Console
) -> None:
    """Parallel runs (concurrency allow) never share a run folder."""
    first = _run(tmp_path, console, FakeRunner(_outcomes((0, passed_journal()))))
    second = _run(tmp_path, console, FakeRunner(_outcomes((0, passed_journal()))))
    assert first.run_dir != second.run_dir
    assert first.report_path != second.report_path


def test_webhook_gets_the_summary_on_failure(
    tmp_path: Path, console: Console, sink: Sink
) -> None:
    """A failure is posted as the JSON report."""
    runner = FakeRunner(_outcomes((1, failed_journal("leak"))))
    _run(tmp_path, console, runner, notify=(Webhook(sink.url),))
    assert [body["outcome"] for body in sink.bodies] == ["failed"]
    assert sink.bodies[0]["drills"][1]["reasons"] == ["leak"]


def test_webhook_for_failures_is_quiet_on_success(
    tmp_path: Path, console: Console, sink: Sink
) -> None:
    """on: [failure] posts nothing when every drill passed."""
    runner = FakeRunner(_outcomes((0, passed_journal())))
    _run(tmp_path, console, runner, notify=(Webhook(sink.url, frozenset({"failure"})),))
    assert sink.bodies == []


def test_failing_webhook_is_logged_not_fatal(
    tmp_path: Path, console: Console, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    """A webhook answering 500 changes nothing; its token is not logged."""
    sink.status = 500
    runner = FakeRunner(_outcomes((0, passed_journal())))
    with caplog.at_level(logging.ERROR, logger="meshdrill.gameday"):
        run = _run(
            tmp_path,
            console,
            runner,
            notify=(Webhook(sink.url, frozenset({"always"})),),
        )
    assert run.exit_code == 0
    assert "answered HTTP 500" in caplog.text
    assert "s3cr3t" not in caplog.text
