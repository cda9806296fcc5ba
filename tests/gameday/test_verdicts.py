"""Judging one drill from its exit code and journal."""

from typing import Any

import pytest

from chaosext.gameday.verdicts import judge, time_to_failover


def _chaos(**fields: Any) -> dict[str, Any]:
    journal: dict[str, Any] = {
        "status": "completed",
        "deviated": False,
        "steady_states": {"before": {"steady_state_met": True, "probes": []}},
        "run": [],
    }
    journal.update(fields)
    return journal


def _meshdrill(verdict: str, *phases: float | None, reasons: tuple = ()) -> dict:
    return {
        "status": "completed",
        "meshdrill": {
            "verdict": verdict,
            "reasons": list(reasons),
            "phases": [
                {"name": f"p{i}", "transition_seconds": s} for i, s in enumerate(phases)
            ],
        },
    }


def test_meshdrill_verdict_passed() -> None:
    """A passed meshdrill verdict with exit 0 passes."""
    assert judge(0, _meshdrill("passed")) == ("passed", [])


def test_meshdrill_failed_verdict_keeps_its_reasons() -> None:
    """The verdict control's reasons are the summary's reasons."""
    verdict, reasons = judge(1, _meshdrill("failed", reasons=("failover: 12% leaked",)))
    assert (verdict, reasons) == ("failed", ["failover: 12% leaked"])


def test_passed_verdict_with_nonzero_exit_fails() -> None:
    """An exit code that disagrees with the verdict is not a pass."""
    assert judge(1, _meshdrill("passed")) == ("failed", ["chaos run exited 1"])


def test_no_journal_is_an_error_pointing_at_the_log() -> None:
    """A crash before the journal was written is an error, with the log's path."""
    verdict, reasons = judge(2, None, "/runs/01-x.log")
    assert verdict == "error"
    assert "see /runs/01-x.log" in reasons[0]


@pytest.mark.parametrize(
    ("journal", "reason"),
    [
        (
            _chaos(
                steady_states={
                    "before": {
                        "steady_state_met": False,
                        "probes": [
                            {"activity": {"name": "split"}, "tolerance_met": False}
                        ],
                    }
                }
            ),
            "steady state not met before the method (probes: split)",
        ),
        (
            _chaos(
                deviated=True,
                steady_states={
                    "after": {
                        "probes": [{"activity": {"name": "m"}, "tolerance_met": False}]
                    }
                },
            ),
            "steady state deviated after the method (probes: m)",
        ),
        (
            _chaos(
                run=[
                    {
                        "activity": {"name": "scale"},
                        "status": "failed",
                        "exception": ["Traceback", "ActivityFailed: boom\n"],
                    }
                ]
            ),
            "activity 'scale' failed: ActivityFailed: boom",
        ),
        (_chaos(status="interrupted"), "experiment ended interrupted"),
    ],
)
def test_plain_chaos_journal_fails_where_chaos_exits_zero(
    journal: dict[str, Any], reason: str
) -> None:
    """Without meshdrill's verdict, a failed check or activity still fails."""
    assert judge(0, journal) == ("failed", [reason])


def test_time_to_failover_is_the_first_phase_with_a_transition() -> None:
    """Phases without transition_seconds are passed over."""
    assert time_to_failover(_meshdrill("passed", None, 4.25, 9.0)) == 4.25


def test_time_to_failover_is_none_without_meshdrill_phases() -> None:
    """A plain chaos journal has no time to failover."""
    assert time_to_failover(_chaos()) is None
