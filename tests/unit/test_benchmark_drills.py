"""The drill benchmark's accounting of waits (benchmarks/drillwaits.py): what it
counts as imposed by the lab or declared by the experiment, each moment once
(it is not run by CI otherwise)."""

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
T0 = 1_800_000_000.0


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    module = importlib.import_module("drillwaits")
    yield module
    sys.modules.pop("drillwaits", None)


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat()


def item(
    start: float,
    end: float,
    kind: str = "probe",
    module: str = "probes.waiting",
    func: str = "wait_for_split",
    output: Any = None,
    pauses: dict[str, Any] | None = None,
    **arguments: Any,
) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "name": f"{func}-{start}",
        "provider": {
            "type": "python",
            "module": module,
            "func": func,
            "arguments": arguments,
        },
    }
    if pauses is not None:
        activity["pauses"] = pauses
    return {"activity": activity, "start": at(start), "end": at(end), "output": output}


def journal(*run: dict[str, Any], **configuration: Any) -> dict[str, Any]:
    return {"experiment": {"configuration": configuration}, "run": list(run)}


def test_covered_counts_whole_spans_once(waits) -> None:  # type: ignore[no-untyped-def]
    assert waits.covered([(0, 2), (1, 3), (5, 6)], []) == pytest.approx(4.0)
    assert waits.union([(0, 2), (1, 3), (5, 6)]) == pytest.approx(4.0)


def test_covered_counts_weighted_spans_by_their_weight(waits) -> None:  # type: ignore[no-untyped-def]
    # two requests held 1 s each by a sampler of concurrency 8: 2/8 s
    assert waits.covered([], [(0, 1, 1 / 8), (0.5, 1.5, 1 / 8)]) == pytest.approx(0.25)


def test_covered_caps_weight_at_one(waits) -> None:  # type: ignore[no-untyped-def]
    held = [(0, 1, 0.5)] * 4  # weight 2 for 1 s: the wall time is 1 s
    assert waits.covered([], held) == pytest.approx(1.0)


def test_covered_does_not_add_weight_inside_whole_spans(waits) -> None:  # type: ignore[no-untyped-def]
    # a transition (0-1 s) overlapping delayed requests (0.5-1.5 s, weight 1/2)
    assert waits.covered([(0, 1)], [(0.5, 1.5, 0.5)]) == pytest.approx(1.25)


def test_delayed_requests_weigh_one_over_the_samplers_concurrency(waits) -> None:  # type: ignore[no-untyped-def]
    run = journal(
        item(0, 10, source={"ingress": {"service": "istio-system/gw"}}),
        item(10, 20, source={"exec": {"pod": "deploy/client"}, "url": "h:80/"}),
        item(20, 30, source={"url": "http://x/", "concurrency": "${wide}"}),
        item(30, 40, kind="action", module="chaosext.actions.scale", func="scale"),
        wide=4,
    )
    records = [
        {"type": "delayed", "since": T0 + 1, "at": T0 + 1.3},
        {"type": "delayed", "since": T0 + 11, "at": T0 + 11.3},
        {"type": "delayed", "since": T0 + 21, "at": T0 + 21.3},
        {"type": "delayed", "since": T0 + 31, "at": T0 + 31.3},  # no sampler
        {"type": "delayed", "since": T0 + 50, "at": T0 + 50.3},  # outside the run
    ]
    spans = waits.delay_spans(run, records)
    assert [w for _, _, w in spans] == pytest.approx([1 / 8, 1.0, 1 / 4])
    assert waits.covered([], spans) == pytest.approx(0.3 / 8 + 0.3 + 0.3 / 4)


def test_a_converged_waits_hold_is_declared_from_its_final_streak(waits) -> None:  # type: ignore[no-untyped-def]
    batches = [
        {"t": 0.0, "passed": True, "ended": 0.1},
        {"t": 0.1, "passed": False, "ended": 0.2},
        {"t": 0.25, "passed": True, "ended": 2.0},
        {"t": 2.0, "passed": True, "ended": 5.3},
    ]
    output = {"converged": True, "started_at": T0, "batches": batches}
    run = journal(item(0, 6, output=output, hold="${nowhere_hold}"), nowhere_hold=5)
    assert waits.declared_spans(run) == [pytest.approx((T0 + 0.25, T0 + 5.25))]


def test_no_hold_is_declared_without_one_or_without_convergence(waits) -> None:  # type: ignore[no-untyped-def]
    batches = [{"t": 0.0, "passed": True, "ended": 0.1}]
    converged = {"converged": True, "started_at": T0, "batches": batches}
    timed_out = {"converged": False, "started_at": T0, "batches": batches}
    run = journal(item(0, 1, output=converged), item(1, 2, output=timed_out, hold=5))
    assert waits.declared_spans(run) == []


def test_pauses_are_declared_before_and_after_their_activity(waits) -> None:  # type: ignore[no-untyped-def]
    run = journal(item(10, 12, pauses={"before": 3, "after": "${settle}"}), settle=2)
    assert waits.declared_spans(run) == [
        pytest.approx((T0 + 7, T0 + 10)),
        pytest.approx((T0 + 12, T0 + 14)),
    ]


def test_pods_coming_and_going_count_inside_actions_and_pod_waits_only(waits) -> None:  # type: ignore[no-untyped-def]
    run = journal(
        item(0, 1, kind="action", module="chaosext.actions.outages", func="down"),
        item(1, 3, module="probes.deployments", func="deployment_stopped"),
        item(3, 6, output={"converged": True}),  # a split wait: not a pod wait
        item(6, 8, module="probes.deployments", func="deployment_ready"),
    )
    records = [
        {"type": "gone", "since": T0 + 0.5, "at": T0 + 2.0},  # 0.5-2.0: all in
        {"type": "ready", "since": T0 + 4.0, "at": T0 + 7.0},  # only 6-7 in
        {"type": "ready", "at": T0 + 7.5},  # no since: started before recording
        {"type": "pod", "answering": True, "since": T0 + 6.5, "at": T0 + 7.2},
        {"type": "pod", "answering": False, "since": T0, "at": T0 + 7.9},
    ]
    spans = waits.pod_spans(run, records)
    assert waits.union(spans) == pytest.approx(1.5 + 1.2)


def test_waits_count_lab_and_declared_waits_once(waits) -> None:  # type: ignore[no-untyped-def]
    batches = [{"t": 0.0, "passed": True, "ended": 3.0}]
    output = {
        "converged": True,
        "started_at": T0,
        "transition_seconds": 1.0,
        "batches": batches,
        "probe": "wait_for_split",
    }
    run = journal(item(0, 3, output=output, hold=2, source={"url": "http://x/"}))
    records = [{"type": "delayed", "since": T0 + 2.5, "at": T0 + 2.8}]
    found = waits.Waits.of(run, records)
    assert found.lab == pytest.approx(1.0 + 0.3 / 8)
    assert found.total == pytest.approx(2.0 + 0.3 / 8)
