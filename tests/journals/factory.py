"""Synthetic journals shaped like chaostoolkit 1.19 / chaoslib 1.44 ones.

`journal()` returns what `chaos run` hands the controls: the experiment as
declared (inline secrets included), steady states, method runs, rollbacks, and
the `meshdrill` record the verdict control adds (PLAN.md).
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
