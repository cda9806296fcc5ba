"""A drill's measured failover time agrees with the lab's own record of it.

The lab writes `routing.jsonl` in its state directory (`chaosext.lab.groundtruth`):
when each proxy's endpoint set changed and when each pod stopped answering. Traffic
through the ingress gateway leaves cluster A at the first of two moments: the
gateway's push without A's endpoints, or the last of A's pods going away (its
requests then retry onto cluster B). The probe's `transition_seconds`, counted from
its `started_at`, must land within one batch (start to start) of that moment.
"""

import itertools
from pathlib import Path
from typing import Any

import pytest

from chaosext.lab import groundtruth
from tests.drills.drilling import run_drill

pytestmark = pytest.mark.slow

FAILOVER = "all-traffic-fails-over-to-cluster-b"
GATEWAY = "gateway/istio-ingressgateway"


def probe_output(journal: dict[str, Any], name: str) -> dict[str, Any]:
    for item in journal["run"]:
        if item["activity"]["name"] == name:
            return dict(item["output"])
    raise AssertionError(f"no {name!r} in the journal")


def true_failover(records: list[dict[str, Any]], after: float) -> float:
    """When the gateway stopped sending anything to cluster-a, per the lab."""
    routes = [
        r["at"]
        for r in records
        if r["type"] == "route"
        and r["proxy"] == GATEWAY
        and r["at"] > after
        and "cluster-a" not in r["shares"].get("cluster", {})
    ]
    stops = [
        r["at"]
        for r in records
        if r["type"] == "pod"
        and r["cluster"] == "cluster-a"
        and not r["answering"]
        and r["at"] > after
    ]
    assert routes, "the lab recorded no route without cluster-a"
    assert stops, "the lab recorded no cluster-a pod stopping"
    return min(min(routes), max(stops))


def test_the_drills_transition_matches_the_labs_record(tmp_path: Path):
    run = run_drill("region_outage.json", tmp_path)
    assert run.code == 0, run.log[-3000:]
    output = probe_output(run.journal, FAILOVER)
    started = float(output["started_at"])
    measured = started + float(output["transition_seconds"])
    records = groundtruth.read(tmp_path / "lab")
    truth = true_failover(records, started)
    starts = [point["t"] for point in output["batches"]]
    batch = max(b - a for a, b in itertools.pairwise(starts))
    assert abs(measured - truth) <= batch, (measured - truth, batch)
