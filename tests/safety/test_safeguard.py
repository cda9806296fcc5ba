"""A fault that hurts more than the drill's error budget ends the drill, restored."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import runtime
from tests.safety import labs
from tests.safety.processes import TRACEBACK, chaos_run

pytestmark = pytest.mark.slow

WAIT_DEADLINE = 120
"""The method's own wait: far longer than the test lets the drill run."""

INGRESS = {
    "ingress": {"service": "istio-system/istio-ingressgateway", "context": "cluster-a"},
    "path": "/",
    "extractor": "hello",
    "timeout": 2.0,
}
WORKLOAD = {
    "contexts": ["cluster-a", "cluster-b"],
    "namespace": "default",
    "selector": "app=hello-world",
}
BUDGET = {"max_error_rate": 0.2, "grace": 1, "batch": 20, "interval": 0.5}


def _python(module: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "python", "module": module, "func": func, "arguments": arguments}


ERROR_BUDGET = {"error_budget": {"source": INGRESS, **BUDGET}}
"""More than 20% of 20 requests failing, every 0.5 s, for over 1 s."""
SPLIT_PROBE = {
    "probes": [
        {
            "type": "probe",
            "name": "traffic-splits-50-50",
            "provider": _python(
                "probes.split",
                "hostname_split",
                {
                    "expected": {"cluster-a": 0.5, "cluster-b": 0.5},
                    "source": INGRESS,
                    "workload": WORKLOAD,
                    "tolerance": 0.3,
                    "samples": 40,
                    "max_samples": 40,
                },
            ),
            "tolerance": {"type": "regex", "target": "verdict", "pattern": "^within$"},
        }
    ],
    "interval": 0.5,
}
"""The steady state, held during the method (Chaos Toolkit's safeguards idea)."""


def _faulty_drill(topology: str, safeguards: dict[str, Any]) -> dict[str, Any]:
    """503 from cluster-a's pods, then a long wait, under `safeguards`."""
    pods = {
        "selector": "app=hello-world",
        "namespace": "default",
        "context": "cluster-a",
    }
    return {
        "version": "1.0.0",
        "title": "Cluster A answers 503: the error budget ends the drill",
        "description": "A fault with no outlier detection to hide it.",
        "configuration": {"kubeconfig": "lab", "lab_topology": topology},
        "controls": [
            {
                "name": "meshdrill",
                "provider": {
                    "type": "python",
                    "module": "chaosext.controls.drill",
                    "arguments": {"safeguards": safeguards},
                },
            }
        ],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "method": [
            {
                "type": "action",
                "name": "cluster-a-answers-503",
                "provider": _python(
                    "chaosext.actions.faults", "inject_fault", {**pods, "status": 503}
                ),
            },
            {
                "type": "probe",
                "name": "traffic-leaves-cluster-a",
                "provider": _python(
                    "probes.waiting",
                    "wait_for_split",
                    {
                        "expected": {"cluster-b": 1.0},
                        "source": INGRESS,
                        "workload": WORKLOAD,
                        "deadline": WAIT_DEADLINE,
                    },
                ),
            },
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "heal-cluster-a",
                "provider": _python("chaosext.actions.faults", "clear_fault", pods),
            }
        ],
    }


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[runtime.LabInfo]:
    """guide-000 without outlier detection: faulty pods keep their share of traffic."""
    info = labs.start(tmp_path, edit=labs.without_outlier_detection)
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def test_errors_over_budget_end_the_drill_and_heal_the_pods(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """Half the requests fail: the safeguard trips, the drill exits non-zero, healed."""
    experiment = tmp_path / "faulty.json"
    experiment.write_text(json.dumps(_faulty_drill(lab.topology, ERROR_BUDGET)))
    before = labs.snapshot(lab)

    done = chaos_run(experiment, tmp_path, lab, timeout=WAIT_DEADLINE / 2)

    assert done.code != 0, done.output[-3000:]
    assert done.journal["status"] == "interrupted"
    assert done.notes["phase"] == "safeguard"
    tripped = done.notes["safeguard"]
    assert tripped.startswith("error budget: client error rate")
    assert "above 20%" in tripped
    assert "status_503" in tripped
    assert done.notes["reasons"][0] == f"safeguard: {tripped}"
    assert labs.faulted_pods(lab) == []
    assert labs.snapshot(lab) == before
    assert TRACEBACK not in done.output


def test_a_named_probe_that_misses_ends_the_drill_and_heals_the_pods(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """The 50/50 probe as a safeguard misses under the fault: ends, pods healed."""
    experiment = tmp_path / "faulty.json"
    experiment.write_text(json.dumps(_faulty_drill(lab.topology, SPLIT_PROBE)))

    done = chaos_run(experiment, tmp_path, lab, timeout=WAIT_DEADLINE / 2)

    assert done.code != 0, done.output[-3000:]
    assert done.notes["phase"] == "safeguard"
    tripped = done.notes["safeguard"]
    assert tripped.startswith("probe 'traffic-splits-50-50' out of tolerance")
    assert "errors:" in tripped
    assert labs.faulted_pods(lab) == []
