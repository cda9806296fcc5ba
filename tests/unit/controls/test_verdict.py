"""The verdict control: a run passes only if every phase passed."""

from typing import Any

import pytest
from chaoslib.exceptions import InterruptExecution

from chaosext.controls import verdict


def probe_run(
    name: str,
    *,
    verdict_: str = "within",
    status: str = "succeeded",
    tolerance_met: bool | None = None,
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "activity": {"type": "probe", "name": name},
        "status": status,
        "output": {
            "probe": "hostname_split",
            "by": "cluster",
            "verdict": verdict_,
            "passed": verdict_ == "within",
            "counts": {"cluster": {"cluster-a": 200, "cluster-b": 200}},
            "reasons": [] if verdict_ == "within" else ["cluster-a: 0.90 outside"],
        },
    }
    if tolerance_met is not None:
        run["tolerance_met"] = tolerance_met
    return run


def journal(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "completed",
        "deviated": False,
        "steady_states": {
            "before": {
                "steady_state_met": True,
                "probes": [probe_run("split", tolerance_met=True)],
            },
            "after": {
                "steady_state_met": True,
                "probes": [probe_run("split", tolerance_met=True)],
            },
            "during": [],
        },
        "run": [
            {
                "activity": {"type": "action", "name": "scale"},
                "status": "succeeded",
                "output": {"context": "cluster-a"},
            },
            probe_run("wait-failover"),
        ],
        "rollbacks": [],
    }
    base.update(overrides)
    return base


def test_a_clean_run_passes_with_every_measured_phase():
    """Every probe output becomes a phase; nothing missed means passed."""
    result = verdict.judge(journal())
    assert result["verdict"] == "passed"
    assert [p["name"] for p in result["phases"]] == [
        "before: split",
        "method: wait-failover",
        "after: split",
    ]


def test_a_failed_steady_state_before_the_method_fails_the_run():
    """Chaos Toolkit ends such a run `completed`; the control makes it failed."""
    j = journal(run=[])
    j["steady_states"]["before"] = {
        "steady_state_met": False,
        "probes": [probe_run("split", verdict_="outside", tolerance_met=False)],
    }
    j["steady_states"]["after"] = None
    verdict.after_experiment_control({}, state=j)
    assert j["status"] == "failed"
    assert j["meshdrill"]["phase"] == "before: split"
    assert "cluster-a: 0.90 outside" in j["meshdrill"]["reasons"][0]


def test_a_method_probe_that_did_not_pass_fails_the_run():
    """Method tolerances are ignored by Chaos Toolkit; the probe's verdict is not."""
    j = journal(run=[probe_run("wait-failover", verdict_="timeout")])
    result = verdict.judge(j)
    assert result["verdict"] == "failed"
    assert result["phase"] == "method: wait-failover"


def test_a_failed_action_fails_the_run_naming_its_exception():
    """A failing action leaves chaoslib's run completed; the verdict says failed."""
    j = journal(
        run=[
            {
                "activity": {"type": "action", "name": "scale"},
                "status": "failed",
                "exception": ["Traceback...\n", "ActivityFailed: no such deployment\n"],
            }
        ]
    )
    result = verdict.judge(j)
    assert result["phase"] == "method: scale"
    assert "no such deployment" in result["reasons"][0]


def test_a_failed_rollback_fails_the_run():
    """A rollback that could not restore is a failed drill."""
    j = journal(
        rollbacks=[
            {
                "activity": {"name": "restore"},
                "status": "failed",
                "exception": "ActivityFailed: unreachable",
            }
        ]
    )
    assert verdict.judge(j)["phase"] == "rollback: restore"


@pytest.mark.parametrize("status", ["interrupted", "aborted"])
def test_an_interrupted_run_fails(status: str):
    """A run cut short is never a pass, even with no measured miss."""
    j = journal(status=status, run=[])
    j["steady_states"]["after"] = None
    assert verdict.judge(j)["verdict"] == "failed"


def test_the_method_stops_at_the_first_miss():
    """after_activity_control interrupts the method when one of its probes missed."""
    wait = {"type": "probe", "name": "wait-failover"}
    experiment = {"method": [wait]}
    with pytest.raises(InterruptExecution, match="wait-failover"):
        verdict.after_activity_control(
            wait,
            state=probe_run("wait-failover", verdict_="timeout"),
            experiment=experiment,
        )


def test_hypothesis_probes_do_not_interrupt():
    """Only method activities stop the method; hypothesis misses wait for the end."""
    split = {"type": "probe", "name": "split"}
    experiment = {"method": [], "steady-state-hypothesis": {"probes": [split]}}
    verdict.after_activity_control(
        split, state=probe_run("split", verdict_="outside"), experiment=experiment
    )
