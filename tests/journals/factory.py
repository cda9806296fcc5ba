"""Synthetic journals shaped like chaostoolkit 1.19 / chaoslib 1.44 ones.

`journal()` returns what `chaos run` hands the controls: the experiment as
declared (inline secrets included), steady states, method runs, rollbacks, and
the `meshdrill` record the verdict control adds (docs/journals.md).
"""

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

SECRET = "s3cr3t-T0ken-4f9a"
BASE = datetime(2026, 11, 21, 22, 31, 5, tzinfo=UTC)

SPLITS: dict[str, dict[str, int]] = {
    "steady": {"cluster-a": 51, "cluster-b": 49},
    "failover": {"cluster-a": 0, "cluster-b": 100},
    "recovered": {"cluster-a": 48, "cluster-b": 52},
}


def experiment(title: str = "Region outage: cluster-a scaled to zero") -> dict:
    return {
        "title": title,
        "description": "guide 000: 50/50, scale A to 0, 100% B, back to 50/50",
        "configuration": {
            "kubeconfig": "lab",
            "contexts": ["cluster-a", "cluster-b"],
            "api_token": SECRET,
            "kube_token": {"type": "env", "key": "KUBE_TOKEN"},
        },
        "secrets": {
            "lab": {"token": SECRET},
            "env": {"k": {"type": "env", "key": "X"}},
        },
        "controls": [
            {
                "name": "meshdrill-archive",
                "provider": {"type": "python", "module": "chaosext.controls.archive"},
            }
        ],
        "steady-state-hypothesis": {"title": "50/50", "probes": []},
        "method": [],
        "rollbacks": [],
    }


def _run(name: str, counts: dict[str, int], start: datetime, kind: str = "probe"):
    return {
        "activity": {
            "type": kind,
            "name": name,
            "provider": {"type": "python", "module": "probes.split", "func": "split"},
        },
        "output": {"counts": {"cluster": dict(counts)}, "errors": 0},
        "status": "succeeded",
        "start": start.isoformat(),
        "end": (start + timedelta(seconds=2)).isoformat(),
        "duration": 2.0,
    }


def meshdrill_record(verdict: str = "passed", splits=None) -> dict[str, Any]:
    splits = SPLITS if splits is None else splits
    return {
        "verdict": verdict,
        "phase": None if verdict == "passed" else "failover",
        "reasons": [] if verdict == "passed" else ["failover: 12% to cluster-a"],
        "run_id": "run-0001",
        "contexts": {
            "cluster-a": "http://127.0.0.1:40001",
            "cluster-b": "http://127.0.0.1:40002",
        },
        "phases": [
            {
                "name": name,
                "counts": {
                    "cluster": dict(counts),
                    "region": {},
                    "zone": {},
                    "pod": {},
                },
                "errors": {"http_5xx": 0, "connect": 1 if name == "failover" else 0},
                "transition_seconds": 3.2 if name != "steady" else None,
            }
            for name, counts in splits.items()
        ],
    }


def journal(
    title: str = "Region outage: cluster-a scaled to zero",
    start: datetime = BASE,
    verdict: str | None = "passed",
    splits: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """A finished run's journal; `verdict=None` leaves out the meshdrill record."""
    splits = SPLITS if splits is None else splits
    names = list(splits)
    steady = _run(names[0], splits[names[0]], start)
    method = [
        _run(name, splits[name], start + timedelta(seconds=10 * (i + 1)))
        for i, name in enumerate(names[1:-1])
    ]
    after = _run(names[-1], splits[names[-1]], start + timedelta(seconds=60))
    out: dict[str, Any] = {
        "chaoslib-version": "1.44.0",
        "platform": "Linux-6.1.0-x86_64-with-glibc2.36",
        "node": "drillbox",
        "experiment": experiment(title),
        "start": start.isoformat(),
        "status": "completed",
        "deviated": False,
        "steady_states": {
            "before": {"steady_state_met": True, "probes": [steady]},
            "after": {"steady_state_met": True, "probes": [after]},
            "during": [],
        },
        "run": method,
        "rollbacks": [],
        "end": (start + timedelta(seconds=64)).isoformat(),
        "duration": 64.2,
    }
    if verdict is not None:
        out["meshdrill"] = meshdrill_record(verdict, splits)
    return copy.deepcopy(out)


def echo_secrets(secrets: dict | None = None) -> dict[str, Any]:
    """A probe that leaks what it was given into its output (and so the journal)."""
    return {
        "seen": dict(secrets or {}),
        "note": f"token is {(secrets or {}).get('token')}",
    }


# A drill as the lab's outlier-ejection run journals it (every batch with its
# time): 50/50, cluster A answers 503, ejected in 0.16 s, healed, back after the
# 30 s ejection time. `kind` "timeout" never converges on the failover, "dry" is
# `chaos run --dry=actions`, "refused" is stopped by the guard before anything.
DRILL_KINDS = ("passed", "timeout", "dry", "refused")


def _at(start: datetime, seconds: float) -> str:
    return (start + timedelta(seconds=seconds)).isoformat()


def _check(name: str, start: datetime, at: float, split: dict[str, int]) -> dict:
    return {
        "activity": {"type": "probe", "name": name},
        "output": {
            "probe": "hostname_split",
            "by": "cluster",
            "verdict": "within",
            "passed": True,
            "counts": {"cluster": dict(split), "pod": {}},
            "errors": {},
            "error_total": 0,
            "started_at": (start + timedelta(seconds=at)).timestamp(),
            "duration": 0.9,
        },
        "status": "succeeded",
        "tolerance_met": True,
        "start": _at(start, at),
        "end": _at(start, at + 0.9),
        "duration": 0.9,
    }


def _action(name: str, start: datetime, at: float, output: Any = None) -> dict:
    return {
        "activity": {"type": "action", "name": name},
        "output": output,
        "status": "succeeded",
        "start": _at(start, at),
        "end": _at(start, at + 0.05),
        "duration": 0.05,
    }


def _wait(
    name: str, start: datetime, at: float, points: list[tuple], settled: float | None
) -> dict:
    """A wait_for_split run; `points` are (t, counts or None, errors, passed)."""
    batches = []
    for t, counts, errors, passed in points:
        point: dict[str, Any] = {"t": t, "passed": passed}
        if counts is None:
            point["note"] = (
                "no answer from the gateway: 50 requests, errors: connect 50"
            )
        else:
            point.update(counts=counts, errors=errors)
        batches.append(point)
    duration = points[-1][0] + 0.1
    output: dict[str, Any] = {
        "probe": "wait_for_split",
        "by": "cluster",
        "started_at": (start + timedelta(seconds=at)).timestamp(),
        "duration": duration,
        "batches": batches,
        "transition_seconds": settled,
        "converged": settled is not None,
        "transition_errors": {"status_503": 2} if settled is not None else {},
        "transition_error_total": 2 if settled is not None else 0,
    }
    if settled is None:
        output.update(
            verdict="timeout",
            passed=False,
            counts={},
            reasons=["no 3 consecutive batches of 50 matched {'cluster-b': 1.0}"],
        )
    else:
        last = points[-1][1] or {}
        output.update(verdict="within", passed=True, counts={"cluster": last})
    return {
        "activity": {"type": "probe", "name": name},
        "output": output,
        "status": "succeeded",
        "start": _at(start, at),
        "end": _at(start, at + duration),
        "duration": duration,
    }


def drill_journal(kind: str = "passed", start: datetime = BASE) -> dict[str, Any]:
    """A whole drill's journal, judged by the real verdict control."""
    from chaosext.controls import verdict

    assert kind in DRILL_KINDS, kind
    half = {"cluster-a": 25, "cluster-b": 25}
    all_b = {"cluster-b": 50}
    out: dict[str, Any] = {
        "chaoslib-version": "1.44.0",
        "experiment": experiment("Outlier ejection"),
        "start": start.isoformat(),
        "status": "completed",
        "deviated": False,
        "steady_states": {"before": None, "after": None, "during": []},
        "run": [],
        "rollbacks": [],
        "meshdrill": {"run_id": f"run-{kind}"},
    }
    if kind == "refused":
        out["meshdrill"]["refused"] = (
            "blast-radius guard: activity 'x' names context 'prod', which is not "
            "in allowed_contexts (cluster-a); nothing was done"
        )
        out.update(status="failed", duration=0.3, steady_states=None)
        out["meshdrill"].update(verdict.judge(out))
        return out
    out["steady_states"]["before"] = {
        "steady_state_met": True,
        "probes": [
            _check(
                "traffic-splits-50-50", start, 1.1, {"cluster-a": 197, "cluster-b": 203}
            )
        ],
    }
    fault = _action("cluster-a-pods-answer-503", start, 2.0)
    if kind == "dry":
        out["meshdrill"]["dry_run"] = "actions"
        fault["output"] = {"dry_run": True, "changes": ["pod x: fault 503"]}
        skipped = {"probe": "wait_for_split", "verdict": "skipped", "dry_run": True}
        wait = {
            "activity": {"type": "probe", "name": "failing-pods-are-ejected"},
            "output": skipped,
            "status": "succeeded",
            "start": _at(start, 2.06),
            "end": _at(start, 2.07),
            "duration": 0.01,
        }
        out["run"] = [fault, wait]
        out["duration"] = 3.2
    elif kind == "timeout":
        points = [(0.0, {"cluster-a": 2, "cluster-b": 23}, 25, False)]
        points += [(0.2 * i, {"cluster-b": 25}, 25, False) for i in range(1, 30)]
        points.insert(3, (0.6, None, 0, False))
        points.sort(key=lambda p: p[0])
        out["run"] = [
            fault,
            _wait("failing-pods-are-ejected", start, 2.1, points, None),
        ]
        out["rollbacks"] = [_action("clear-the-fault", start, 8.2, {"pods": []})]
        out.update(status="interrupted", duration=8.4)
    else:
        ejected = [(0.0, {"cluster-b": 48}, 2, False)]
        ejected += [(0.16 + 0.14 * i, all_b, 0, True) for i in range(3)]
        back = [(0.25 * i, all_b, 0, False) for i in range(120)]
        back += [(29.93 + 0.12 * i, half, 0, True) for i in range(3)]
        out["run"] = [
            fault,
            _wait("failing-pods-are-ejected", start, 2.1, ejected, 0.16),
            _action("cluster-a-pods-heal", start, 2.7),
            _wait("traffic-returns-after-the-ejection-time", start, 2.75, back, 29.93),
        ]
        out["rollbacks"] = [_action("clear-the-fault", start, 34.1, {"pods": []})]
        out["duration"] = 34.2
    out["steady_states"]["after"] = {
        "steady_state_met": True,
        "probes": [_check("traffic-splits-50-50", start, out["duration"] - 1.0, half)],
    }
    if kind == "timeout":
        out["steady_states"]["after"] = None
    out["meshdrill"]["restore"] = {"restored": [], "failed": [], "contexts": {}}
    out["meshdrill"].update(verdict.judge(out))
    if kind == "dry":
        out["meshdrill"]["dry_run"] = "actions"
    out["end"] = _at(start, out["duration"])
    return copy.deepcopy(out)
