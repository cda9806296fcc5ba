"""Every tier drill passes against its shipped lab topology, from a fresh machine.

Each test is `chaos run experiments/<tier>.json` with no kubeconfig and no lab
running: the drill's control starts the tier's default topology (shipped timing,
shipped statistics), runs the fault and the repair, and stops the lab. The
region-outage tier has its own file (test_region_outage.py). A drill whose steady
state is the predicted split also runs on a variant that predicts another.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.drills.drilling import (
    DrillRun,
    assert_lands,
    objects,
    run_drill,
    topology_variant,
)

pytestmark = pytest.mark.slow

TD = "networking.istio.io/traffic-distribution"


@dataclass(frozen=True)
class Tier:
    experiment: str
    before: str
    failover: str
    failover_by: str
    failover_in: frozenset[str]
    recovery: str
    recovery_by: str
    recovery_in: frozenset[str]

    def __str__(self) -> str:
        return self.experiment.removesuffix(".json")


def _in(*names: str) -> frozenset[str]:
    return frozenset(names)


TIERS = [
    Tier(
        "cluster_failover.json",
        "before: in-cluster1",
        "method: all-traffic-fails-over-to-cluster2",
        "cluster",
        _in("cluster2"),
        "method: traffic-returns-in-cluster1",
        "cluster",
        _in("cluster1"),
    ),
    Tier(
        "zone_failover.json",
        "before: in-the-client-zone",
        "method: traffic-fails-over-to-the-other-zone",
        "zone",
        _in("us-east-1b"),
        "method: traffic-returns-to-the-client-zone",
        "zone",
        _in("us-east-1a"),
    ),
    Tier(
        "zone_outage.json",
        "before: in-the-client-region",
        "method: traffic-fails-over-to-the-other-zone",
        "zone",
        _in("us-east-1b"),
        "method: traffic-stays-in-the-region",
        "region",
        _in("us-east-1"),
    ),
    Tier(
        "region_failover.json",
        "before: in-the-client-zone",
        "method: all-traffic-fails-over-to-the-other-region",
        "region",
        _in("us-west-2"),
        "method: traffic-returns-in-the-client-zone",
        "zone",
        _in("us-east-1a"),
    ),
    Tier(
        "waypoint_failover.json",
        "before: in-the-waypoint-zone",
        "method: all-traffic-fails-over-to-cluster2",
        "cluster",
        _in("cluster2"),
        "method: traffic-returns-in-the-waypoint-zone",
        "zone",
        _in("us-east-1a"),
    ),
    Tier(
        "outlier_ejection.json",
        "before: traffic-splits-50-50",
        "method: failing-pods-are-ejected",
        "cluster",
        _in("cluster-b"),
        "method: traffic-returns-after-the-ejection-time",
        "cluster",
        _in("cluster-a", "cluster-b"),
    ),
    Tier(
        "control_plane_outage.json",
        "before: traffic-splits-as-predicted",
        "method: outlier-detection-fails-over-to-cluster-b",
        "cluster",
        _in("cluster-b"),
        "method: traffic-returns-as-predicted",
        "cluster",
        _in("cluster-a", "cluster-b"),
    ),
    Tier(
        "slow_upstream.json",
        "before: traffic-splits-50-50",
        "method: share-unchanged-while-cluster-a-is-slow",
        "cluster",
        _in("cluster-a", "cluster-b"),
        "method: cluster-a-fast-again-share-unchanged",
        "cluster",
        _in("cluster-a", "cluster-b"),
    ),
]


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Tier], DrillRun]:
    """`chaos run` of a tier's default drill, once per module."""
    done: dict[str, DrillRun] = {}

    def drill(tier: Tier) -> DrillRun:
        if tier.experiment not in done:
            tmp = tmp_path_factory.mktemp(str(tier))
            done[tier.experiment] = run_drill(tier.experiment, tmp)
        return done[tier.experiment]

    return drill


@pytest.fixture(scope="module", params=TIERS, ids=str)
def tier_run(
    request: pytest.FixtureRequest, drills: Callable[[Tier], DrillRun]
) -> tuple[Tier, DrillRun]:
    """One tier and its run, shared by the checks on its journal."""
    return request.param, drills(request.param)


def test_the_drill_passes_on_a_fresh_machine(tier_run: tuple[Tier, DrillRun]):
    """Exit 0, a completed journal, not deviated, meshdrill verdict passed."""
    _, run = tier_run
    assert run.code == 0, run.log[-3000:]
    assert run.journal["status"] == "completed"
    assert run.journal["deviated"] is False
    assert run.verdict["verdict"] == "passed", run.verdict.get("reasons")
    assert run.verdict["restore"]["failed"] == []


def test_every_phase_counts_answers_by_cluster_region_and_zone(
    tier_run: tuple[Tier, DrillRun],
):
    """Each measured phase holds non-empty counts per cluster, region and zone."""
    tier, run = tier_run
    phases = run.verdict["phases"]
    names = {phase["name"] for phase in phases}
    assert {tier.before, tier.failover, tier.recovery} <= names
    assert any(name.startswith("after: ") for name in names)
    for phase in phases:
        counts = phase["counts"]
        totals = {sum(counts[by].values()) for by in ("cluster", "region", "zone")}
        assert len(totals) == 1, (phase["name"], counts)
        assert totals.pop() > 0, phase["name"]


def test_the_failover_lands_where_the_tier_promises(tier_run: tuple[Tier, DrillRun]):
    """Time to failover and its client errors are recorded; answers are all there."""
    tier, run = tier_run
    failover = run.phase(tier.failover)
    assert failover["transition_seconds"] is not None
    assert isinstance(failover["transition_errors"], dict)
    assert_lands(failover["counts"][tier.failover_by], tier.failover_in)


def test_the_recovery_lands_where_the_tier_promises(tier_run: tuple[Tier, DrillRun]):
    """Time to recover and its client errors are recorded; answers are all there."""
    tier, run = tier_run
    recovery = run.phase(tier.recovery)
    assert recovery["transition_seconds"] is not None
    assert isinstance(recovery["transition_errors"], dict)
    assert_lands(recovery["counts"][tier.recovery_by], tier.recovery_in)


def test_ejected_pods_stay_out_after_they_heal(drills: Callable[[Tier], DrillRun]):
    """outlier_ejection: the first recovery batch is still all cluster B (ejected).

    The fault is cleared right after the ejection, but Envoy takes an ejected
    host back only after baseEjectionTime (30 s in guide 000): the recovery
    starts with cluster A still out, which proves the failover was an ejection
    and not the pods answering again.
    """
    tier = next(t for t in TIERS if t.experiment == "outlier_ejection.json")
    run = drills(tier)
    assert run.code == 0, run.log[-3000:]
    first = run.phase(tier.recovery)["batches"][0]
    assert set(first["counts"]) == {"cluster-b"}, first


def _prefer_close_with_outlier_detection(data: dict[str, Any]) -> None:
    """guide-000 preferring its own zone: PreferClose on the Service, the DR's
    `distribute` gone (it would replace PreferClose), its outlierDetection kept.

    explain (gateway, europe-west1-b): cluster A's pod there priority 0 (100%), the
    other zone's 1, cluster B's 2.
    """
    (workload,) = data["workloads"]
    workload["service"]["annotations"] = {TD: "PreferClose"}
    (rule,) = objects(data, "DestinationRule")
    del rule["spec"]["trafficPolicy"]["loadBalancer"]


def test_control_plane_outage_fails_over_from_a_local_steady_state_and_back(
    tmp_path: Path,
):
    """PreferClose mesh: all cluster A; istiod and pods gone, outlier detection
    empties priorities 0 and 1 at no client error: all B; recovered: all A again."""
    variant = topology_variant(
        "guide-000", tmp_path, edit=_prefer_close_with_outlier_detection
    )
    run = run_drill(
        "control_plane_outage.json", tmp_path, variables={"lab_topology": str(variant)}
    )
    assert run.code == 0, run.log[-3000:]
    local = {"cluster-a"}
    assert_lands(
        run.phase("before: traffic-splits-as-predicted")["counts"]["cluster"], local
    )
    failover = run.phase("method: outlier-detection-fails-over-to-cluster-b")
    assert failover["transition_errors"] == {}
    assert_lands(failover["counts"]["cluster"], {"cluster-b"})
    recovery = run.phase("method: traffic-returns-as-predicted")
    assert_lands(recovery["counts"]["cluster"], local)
    assert_lands(
        run.phase("after: traffic-splits-as-predicted")["counts"]["cluster"], local
    )


def test_slow_upstream_journals_latency_per_destination(
    drills: Callable[[Tier], DrillRun],
):
    """slow_upstream: every phase keeps p50/p90/p99 with counts per cluster, zone
    and pod; while slow, cluster A's median is at least the delay (0.3 s) and
    cluster B's below it; once cleared, both below it."""
    tier = next(t for t in TIERS if t.experiment == "slow_upstream.json")
    run = drills(tier)
    assert run.code == 0, run.log[-3000:]
    for phase in run.verdict["phases"]:
        for by in ("cluster", "zone", "pod"):
            latency = phase["latency"][by]
            counts = phase["counts"][by]
            assert {d: v["count"] for d, v in latency.items()} == counts, phase["name"]
            for values in latency.values():
                assert values["p50"] <= values["p90"] <= values["p99"] <= values["max"]
    slow = run.phase(tier.failover)["latency"]["cluster"]
    assert slow["cluster-a"]["p50"] >= 0.3
    assert slow["cluster-b"]["p50"] < 0.3
    fast = run.phase(tier.recovery)["latency"]["cluster"]
    assert max(fast[c]["p50"] for c in ("cluster-a", "cluster-b")) < 0.3
