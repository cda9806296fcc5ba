"""What one drill's `chaos run` proved: its verdict, reasons and time to failover.

meshdrill's drills carry their own verdict in the journal's `meshdrill` key. For an
experiment without meshdrill's verdict control the journal is judged here, stricter
than `chaos run`'s exit code: a steady state not met before the method, a deviation
after it, or a failed activity each fail the drill.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["DrillResult", "Verdict", "judge", "skipped", "time_to_failover"]

Verdict = Literal["passed", "failed", "error", "interrupted", "skipped"]


@dataclass(frozen=True)
class DrillResult:
    """One drill of a game-day run, as the summary and the report show it."""

    name: str
    experiment: str
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    exit_code: int | None = None
    started: datetime | None = None
    finished: datetime | None = None
    time_to_failover: float | None = None
    journal: str | None = None
    log: str | None = None

    @property
    def passed(self) -> bool:
        """True only for a drill that ran and passed."""
        return self.verdict == "passed"

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, if it ran."""
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """The drill's entry in the game-day report."""
        return {
            "name": self.name,
            "experiment": self.experiment,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "exit_code": self.exit_code,
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
            "duration": self.duration,
            "time_to_failover": self.time_to_failover,
            "journal": self.journal,
            "log": self.log,
        }


def skipped(name: str, experiment: str, why: str) -> DrillResult:
    """A drill that was not run, and why."""
    return DrillResult(name, experiment, "skipped", (why,))


def time_to_failover(journal: dict[str, Any] | None) -> float | None:
    """`transition_seconds` of the first phase that has one, else None."""
    meshdrill = (journal or {}).get("meshdrill")
    if not isinstance(meshdrill, dict):
        return None
    for phase in meshdrill.get("phases") or []:
        seconds = phase.get("transition_seconds") if isinstance(phase, dict) else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return float(seconds)
    return None


def _failed_probes(check: object) -> list[str]:
    if not isinstance(check, dict):
        return []
    return [
        str(probe.get("activity", {}).get("name", "?"))
        for probe in check.get("probes") or []
        if isinstance(probe, dict) and probe.get("tolerance_met") is False
    ]


def _last_line(exception: object) -> str:
    if isinstance(exception, list) and exception:
        return str(exception[-1]).strip()
    return "no exception recorded"


def _chaos_reasons(journal: dict[str, Any]) -> list[str]:
    """Why a journal without meshdrill's verdict shows a failed drill."""
    reasons: list[str] = []
    status = journal.get("status")
    if status != "completed":
        reasons.append(f"experiment ended {status}")
    states = journal.get("steady_states") or {}
    before = states.get("before")
    if isinstance(before, dict) and before.get("steady_state_met") is False:
        probes = ", ".join(_failed_probes(before)) or "?"
        reasons.append(f"steady state not met before the method (probes: {probes})")
    if journal.get("deviated"):
        probes = ", ".join(_failed_probes(states.get("after"))) or "?"
        reasons.append(f"steady state deviated after the method (probes: {probes})")
    for run in journal.get("run") or []:
        if isinstance(run, dict) and run.get("status") == "failed":
            name = run.get("activity", {}).get("name", "?")
            reasons.append(
                f"activity {name!r} failed: {_last_line(run.get('exception'))}"
            )
    return reasons


def judge(
    exit_code: int, journal: dict[str, Any] | None, log: str | None = None
) -> tuple[Verdict, list[str]]:
    """The verdict and reasons of a drill that `chaos run` ended with `exit_code`."""
    if journal is None:
        where = f"; see {log}" if log else ""
        return "error", [f"chaos run exited {exit_code} without a journal{where}"]
    meshdrill = journal.get("meshdrill")
    if isinstance(meshdrill, dict):
        reasons = [str(reason) for reason in meshdrill.get("reasons") or []]
        verdict = meshdrill.get("verdict")
        if verdict == "passed" and exit_code == 0:
            return "passed", reasons
        if verdict == "interrupted":
            return "interrupted", reasons
        if verdict == "passed":
            reasons.append(f"chaos run exited {exit_code}")
        elif verdict not in ("failed", "refused"):
            reasons.append(f"unknown meshdrill verdict {verdict!r}")
        return "failed", reasons
    reasons = _chaos_reasons(journal)
    if exit_code != 0 and not reasons:
        reasons.append(f"chaos run exited {exit_code}")
    return ("failed" if reasons else "passed"), reasons
