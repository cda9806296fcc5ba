"""Ctrl-C in the middle of the east-west outage drill: cluster 2's gateway and
cluster 1's workload both come back, by the rollbacks or by the restore control.

The drill runs against a guide-001 lab started apart from it, with a "nowhere to
go" check that must hold for ten minutes: it is still waiting, with the gateway
and the workload both at zero, when the signal arrives.
"""

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from chaosext.annotations import RESTORE_KEY
from chaosext.lab import runtime
from tests.labfixtures import apps
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, Finished, start_drill

pytestmark = pytest.mark.slow

LINGER = {"nowhere_hold": "600", "failover_deadline": "900"}
EXIT_DEADLINE = 15.0
"""Seconds the drill may take, after the signal, to restore and exit."""
HELD = {
    ("cluster2", "istio-system", "istio-eastwestgateway"): 1,
    ("cluster1", "httpbin", "in-ambient"): 2,
}
"""What the drill scales to zero, with the replicas it must put back."""


def _deployment(lab: runtime.LabInfo, key: tuple[str, str, str]) -> Any:
    context, namespace, name = key
    return apps(lab, context).read_namespaced_deployment(name, namespace)


def _all_held(lab: runtime.LabInfo) -> bool:
    """Both at zero replicas, each with its restore record."""
    return all(state == (0, True) for state in _state(lab).values())


def _state(lab: runtime.LabInfo) -> dict[tuple[str, str, str], tuple[int, bool]]:
    """(replicas, has a restore record) of each."""
    out = {}
    for key in HELD:
        dep = _deployment(lab, key)
        out[key] = (dep.spec.replicas, RESTORE_KEY in (dep.metadata.annotations or {}))
    return out


@pytest.fixture
def lab001(tmp_path: Path) -> Any:
    info = labs.start(tmp_path, "guide-001")
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def _interrupt(lab: runtime.LabInfo, tmp: Path, *options: str) -> Finished:
    drill = start_drill(
        EXPERIMENTS / "eastwest_outage.json",
        tmp,
        lab,
        variables={"lab_topology": lab.topology, **LINGER},
        options=options,
    )
    try:
        drill.until(lambda: _all_held(lab), 60, "gateway and workload at zero")
        drill.until(
            lambda: "Probe: failover-has-nowhere-to-go" in drill.output(),
            30,
            "the nowhere-to-go wait running",
        )
        sent = drill.send(signal.SIGINT)
        done = drill.wait(timeout=EXIT_DEADLINE)
        print(f"SIGINT: exit {done.code} {time.monotonic() - sent:.2f} s later")
    finally:
        drill.stop()
    return done


@pytest.mark.parametrize("rollbacks", ["always", "never"])
def test_sigint_during_the_outage_restores_gateway_and_workload(
    rollbacks: str, lab001: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGINT with both at zero: exit non-zero, both back to their replicas, no
    record left; with rollbacks off, the restore control does it."""
    done = _interrupt(lab001, tmp_path, "--rollback-strategy", rollbacks)
    assert done.code != 0, done.output[-3000:]
    assert TRACEBACK not in done.output
    assert done.journal["status"] == "interrupted"
    assert done.notes["interrupted"] == "SIGINT"
    assert _state(lab001) == {key: (n, False) for key, n in HELD.items()}
    assert done.notes["restore"]["failed"] == []
    restored = {(r["context"], r["name"]) for r in done.notes["restore"]["restored"]}
    if rollbacks == "always":
        outputs = [r["output"] for r in done.journal["rollbacks"]]
        assert [(o["context"], o["deployment"], o["changed"]) for o in outputs] == [
            ("cluster2", "istio-eastwestgateway", True),
            ("cluster1", "in-ambient", True),
        ]
        assert restored == set()
    else:
        assert done.journal["rollbacks"] == []
        assert restored == {
            ("cluster2", "istio-eastwestgateway"),
            ("cluster1", "in-ambient"),
        }
