"""Ctrl-C and SIGTERM in the middle of a region-outage drill: cluster-a comes back.

The drill runs against a lab started apart from it (so the lab outlives the drill),
with a failover check that demands 1000 clean batches in a row: it is still
waiting, with cluster-a at zero replicas, when the signal arrives.
"""

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from chaosext.annotations import RESTORE_KEY
from chaosext.journals import archive
from chaosext.lab import runtime
from tests.labfixtures import core
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, Finished, start_drill

pytestmark = pytest.mark.slow

LINGER = {"consecutive": "1000", "failover_deadline": "120"}
"""The failover wait goes on for minutes: the drill is mid-method for as long as
the test needs."""

EXIT_DEADLINE = 15.0
"""Seconds the drill may take, after the signal, to restore and exit."""


def _interrupt(
    lab: runtime.LabInfo, tmp: Path, sig: signal.Signals, *options: str
) -> Finished:
    """Start the drill, wait for cluster-a at zero, send `sig`, wait for the exit."""
    variables = {"lab_topology": lab.topology, **LINGER}
    drill = start_drill(
        EXPERIMENTS / "region_outage.json",
        tmp,
        lab,
        variables=variables,
        options=options,
    )
    try:
        drill.until(lambda: labs.held(lab), 60, "cluster-a held at zero")
        sent = drill.send(sig)
        done = drill.wait(timeout=EXIT_DEADLINE)
        print(f"{sig.name}: exit {done.code} {time.monotonic() - sent:.2f} s later")
    finally:
        drill.stop()
    return done


def _restored_deployments(outputs: list[Any]) -> list[tuple[Any, Any]]:
    return [
        (o["context"], o.get("deployment") or o.get("name"))
        for o in outputs
        if isinstance(o, dict) and o.get("changed", True)
    ]


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"]
)
def test_a_signal_mid_drill_restores_cluster_a_before_exit(
    sig: signal.Signals, lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGINT/SIGTERM while cluster-a is at zero: exit non-zero, replicas back to 2."""
    done = _interrupt(lab, tmp_path, sig)
    assert done.code != 0, done.output[-3000:]
    assert labs.restored(lab), labs.deployment(lab)
    assert TRACEBACK not in done.output
    assert done.journal["status"] == "interrupted"
    assert done.notes["verdict"] == "interrupted"
    assert done.notes["interrupted"] == sig.name
    rollbacks = [r["output"] for r in done.journal["rollbacks"]]
    assert _restored_deployments(rollbacks) == [("cluster-a", "hello-world")]
    assert done.notes["restore"] == {
        "restored": [],
        "failed": [],
        "contexts": lab.clusters,
    }


def test_sigterm_during_the_steady_state_is_an_interrupted_run(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGTERM inside the steady-state probe: `interrupted`, not `failed`."""
    before = labs.snapshot(lab)
    drill = start_drill(
        EXPERIMENTS / "region_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology, "samples": "200000"},
    )
    try:
        drill.until(
            lambda: "Probe: traffic-splits-50-50" in drill.output(),
            60,
            "the steady-state probe running",
        )
        drill.send(signal.SIGTERM)
        done = drill.wait(timeout=EXIT_DEADLINE)
    finally:
        drill.stop()
    assert done.code != 0, done.output[-3000:]
    assert TRACEBACK not in done.output
    assert done.journal["status"] == "interrupted"
    assert done.notes["verdict"] == "interrupted"
    assert done.notes["reasons"][0] == "run: interrupted by SIGTERM"
    assert "meshdrill verdict: INTERRUPTED" in done.output
    (entry,) = archive.entries(tmp_path / "journals")
    assert entry["verdict"] == "interrupted"
    assert labs.snapshot(lab) == before


def test_with_rollbacks_off_the_restore_control_still_restores(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """`--rollback-strategy never` + SIGINT: the restore control puts cluster-a back."""
    done = _interrupt(lab, tmp_path, signal.SIGINT, "--rollback-strategy", "never")
    assert done.code != 0, done.output[-3000:]
    assert labs.restored(lab), labs.deployment(lab)
    assert done.journal["rollbacks"] == []
    restored = done.notes["restore"]["restored"]
    assert _restored_deployments(restored) == [("cluster-a", "hello-world")]
    assert restored[0]["prior"] == {"replicas": 2}
    assert "restored what the run left" in done.output


@pytest.mark.parametrize("rollbacks", ["always", "never"])
def test_ctrl_c_pressed_again_and_again_still_restores(
    rollbacks: str, lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGINT every 50 ms until the drill exits: cluster-a is back all the same."""
    # Not asserted: journal.json. A Ctrl-C in the last milliseconds, after the
    # controls, while chaos writes it and exits, can still cut it short (the
    # archive's copy is written before that, under held signals).
    variables = {"lab_topology": lab.topology, **LINGER}
    drill = start_drill(
        EXPERIMENTS / "region_outage.json",
        tmp_path,
        lab,
        variables=variables,
        options=("--rollback-strategy", rollbacks),
    )
    try:
        drill.until(lambda: labs.held(lab), 60, "cluster-a held at zero")
        sent = drill.send(signal.SIGINT)
        while drill.proc.poll() is None and time.monotonic() - sent < EXIT_DEADLINE:
            drill.send(signal.SIGINT)
            time.sleep(0.05)  # a user's repeated Ctrl-C, not a wait for a condition
        code = drill.proc.wait(timeout=1)
    finally:
        drill.stop()
    assert labs.restored(lab), (labs.deployment(lab), drill.output()[-3000:])
    assert code != 0


def test_a_garbled_record_elsewhere_does_not_stop_the_restore(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """A hand-edited record on a node: restore names it and still restores the rest."""
    garbage = {"metadata": {"annotations": {RESTORE_KEY: "{not json"}}}
    core(lab, "cluster-a").patch_node("cluster-a-node-2", garbage)
    done = _interrupt(lab, tmp_path, signal.SIGINT, "--rollback-strategy", "never")
    assert labs.restored(lab), (labs.deployment(lab), done.output[-3000:])
    assert done.notes["restore"]["failed"] == []
    assert "left alone: node cluster-a-node-2 in context 'cluster-a'" in done.output
