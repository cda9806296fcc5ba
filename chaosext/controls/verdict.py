"""Control: a drill's exit code tells the truth, and the journal says why.

Chaos Toolkit 1.19 alone exits 0 when the steady state fails *before* the method
(it skips the method and ends `completed`), and when an action or a probe of the
method fails (method tolerances are ignored; the run goes on and completes).
This control:
- stops the method at the first activity that failed or whose meshdrill probe
  did not pass (raising InterruptExecution, so rollbacks and restore follow);
- when the run ends, marks it `failed` unless every phase passed, and writes
  `journal["meshdrill"]`: the verdict, the phase that missed first, the reasons
  with their numbers, and every measured phase (counts by cluster, region, zone
  and pod; errors; transition times) for reports.
"""

import logging
import re
from typing import Any

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Activity, Configuration, Experiment, Journal, Run

__all__ = ["after_activity_control", "after_experiment_control", "judge"]

logger = logging.getLogger("chaostoolkit")

# "pkg.mod.ClassName: " or a bare "SomethingError: " at the start of a message.
CLASS_PREFIX = re.compile(
    r"^(?:(?:[a-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception|Failed|Execution)): "
)


def after_activity_control(
    context: Activity, state: Run = None, experiment: Experiment = None, **_: Any
) -> None:
    """Stop the method as soon as one of its activities misses."""
    if not experiment or not isinstance(state, dict):
        return
    if not any(context is a for a in experiment.get("method", [])):
        return
    miss = _activity_miss(state)
    if miss:
        name = context.get("name", "?")
        logger.error("method activity '%s' missed: %s", name, miss)
        raise InterruptExecution(f"method activity '{name}' missed: {miss}")


def after_experiment_control(
    context: Experiment,
    state: Journal = None,
    configuration: Configuration = None,
    **_: Any,
) -> None:
    """Judge the whole run; make the status and the journal say it."""
    if not isinstance(state, dict):
        return
    verdict = judge(state)
    state.setdefault("meshdrill", {}).update(verdict)
    failed = verdict["verdict"] == "failed"
    if failed and state.get("status") == "completed" and not state.get("deviated"):
        state["status"] = "failed"
    # The drill control logs the verdict once the run's status is settled
    # (refused, interrupted, dry-run, passed or failed).


def judge(journal: Journal) -> dict[str, Any]:
    """The verdict of a finished run, from its journal alone."""
    reasons: list[tuple[str, str]] = []
    phases: list[dict[str, Any]] = []
    before = (journal.get("steady_states") or {}).get("before")
    after = (journal.get("steady_states") or {}).get("after")
    if before is not None:
        _hypothesis_phases("before", before, phases, reasons)
    for run in journal.get("run") or []:
        name = f"method: {run.get('activity', {}).get('name', '?')}"
        _add_phase(name, run.get("output"), phases)
        miss = _activity_miss(run)
        if miss:
            reasons.append((name, miss))
    if after is not None:
        _hypothesis_phases("after", after, phases, reasons)
    refused = (journal.get("meshdrill") or {}).get("refused")
    if refused:
        reasons.insert(0, ("refused", str(refused)))
    if journal.get("status") in ("interrupted", "aborted") and not reasons:
        reasons.append(("run", f"the run was {journal['status']} before it finished"))
    if before is None and journal.get("steady_states") is not None and not reasons:
        reasons.append(("before", "the steady-state hypothesis did not run"))
    for rollback in journal.get("rollbacks") or []:
        if rollback.get("status") == "failed":
            name = f"rollback: {rollback.get('activity', {}).get('name', '?')}"
            reasons.append((name, _exception(rollback)))
    notes = journal.get("meshdrill") or {}
    if notes.get("safeguard"):
        reasons.insert(0, ("safeguard", str(notes["safeguard"])))
    for failed in (notes.get("restore") or {}).get("failed") or []:
        reasons.append(("restore", f"could not restore: {failed}"))
    if notes.get("dry_run"):
        return _dry_verdict(journal, phases)
    return {
        "verdict": "failed" if reasons else "passed",
        "phase": reasons[0][0] if reasons else None,
        "reasons": [f"{phase}: {why}" for phase, why in reasons],
        "phases": phases,
    }


def _dry_verdict(journal: Journal, phases: list[dict[str, Any]]) -> dict[str, Any]:
    """A dry run passes when every action could plan its changes."""
    plans = [
        {"action": r.get("activity", {}).get("name"), "plan": r.get("output")}
        for r in journal.get("run") or []
        if r.get("activity", {}).get("type") == "action"
    ]
    errors = [
        f"method: {p['action']}: {p['plan']['error']}"
        for p in plans
        if isinstance(p["plan"], dict) and p["plan"].get("error")
    ]
    return {
        "verdict": "failed" if errors else "dry-run",
        "phase": errors[0].rsplit(":", 1)[0] if errors else None,
        "reasons": errors,
        "phases": phases,
        "plan": plans,
    }


def _hypothesis_phases(
    label: str,
    hypothesis: dict[str, Any],
    phases: list[dict[str, Any]],
    reasons: list[tuple[str, str]],
) -> None:
    for probe in hypothesis.get("probes") or []:
        name = f"{label}: {probe.get('activity', {}).get('name', '?')}"
        _add_phase(name, probe.get("output"), phases)
        if probe.get("status") == "failed":
            reasons.append((name, _exception(probe)))
        elif probe.get("tolerance_met") is False:
            reasons.append((name, "not within tolerance: " + _output_reasons(probe)))
    if not hypothesis.get("steady_state_met", True) and not any(
        r[0].startswith(f"{label}:") for r in reasons
    ):
        reasons.append((label, "steady state not met"))


def _activity_miss(run: dict[str, Any]) -> str | None:
    """Why one method activity missed, or None if it did its job."""
    if run.get("status") == "failed":
        return _exception(run)
    output = run.get("output")
    if isinstance(output, dict) and output.get("passed") is False:
        return f"verdict {output.get('verdict')}: " + _output_reasons(run)
    return None


def _output_reasons(run: dict[str, Any]) -> str:
    output = run.get("output")
    if isinstance(output, dict):
        found = output.get("reasons") or []
        if found:
            return "; ".join(str(r) for r in found)
        if "counts" in output:
            return f"counts {output.get('counts', {}).get(output.get('by'), {})}"
    return f"output {str(output)[:300]}"


def _exception(run: dict[str, Any]) -> str:
    """The last line of a journaled traceback, without exception class paths."""
    exc = run.get("exception")
    if isinstance(exc, list):
        exc = "".join(exc)
    lines = [line for line in str(exc or "failed").strip().splitlines() if line]
    message = lines[-1] if lines else "failed"
    while CLASS_PREFIX.match(message):
        message = CLASS_PREFIX.sub("", message, count=1)
    return message[:500]


def _add_phase(name: str, output: Any, phases: list[dict[str, Any]]) -> None:
    if not isinstance(output, dict) or "probe" not in output:
        return
    phases.append(
        {
            "name": name,
            "probe": output.get("probe"),
            "verdict": output.get("verdict"),
            "by": output.get("by"),
            "counts": output.get("counts", {}),
            "shares": output.get("shares", {}),
            "intervals": output.get("intervals", {}),
            "errors": output.get("errors", {}),
            "latency": output.get("latency", {}),
            "transition_seconds": output.get("transition_seconds"),
            "transition_errors": output.get("transition_errors"),
            "batches": output.get("batches"),
            "started_at": output.get("started_at"),
            "duration": output.get("duration"),
            **({"finding": output["finding"]} if output.get("finding") else {}),
        }
    )
