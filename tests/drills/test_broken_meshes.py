"""Every tier drill fails, naming the phase and the numbers, when the mesh breaks
the tier's promise.

Each variant is a shipped topology with one Istio setting changed the way an
operator could change it on a real mesh; `meshdrill lab explain --topology FILE`
predicts what it does (the comments say what it predicts). Where the promise is
about failover, the variant keeps the steady state and breaks the failover, so
the drill misses in the method, not before it. Timing is the fast test timing
except where the tier needs a slow replacement; deadlines are shortened with
`--var` so that a miss is found in seconds.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.drills.drilling import DrillRun, objects, run_drill, topology_variant

pytestmark = pytest.mark.slow

TD = "networking.istio.io/traffic-distribution"
SHORT = {"failover_deadline": "6"}
# A replacement pod that stays not-ready through the (short) failover wait.
SLOW_REPLACEMENT = {"ready_after": 60.0, "propagation": 0.3, "terminate_after": 0.1}

Edit = Callable[[dict[str, Any]], None]


def _no_traffic_distribution(data: dict[str, Any]) -> None:
    """guide-001 without the namespace's PreferNetwork: OSS Istio's default.

    explain: ztunnel Standard, every endpoint rank 0: 25% per pod, half cluster2.
    """
    for namespace in data["namespaces"]:
        if isinstance(namespace, dict):
            namespace.get("annotations", {}).pop(TD, None)


def _prefer_close_removed(data: dict[str, Any]) -> None:
    """guide-001-preferclose before the guide's step 4 (Service not annotated).

    explain: the namespace's PreferNetwork applies: both us-east-1 zones, 50/50.
    """
    (workload,) = data["workloads"]
    del workload["service"]["annotations"][TD]


def _traffic_policy(data: dict[str, Any]) -> dict[str, Any]:
    """The one DestinationRule's trafficPolicy, to edit in place."""
    (rule,) = objects(data, "DestinationRule")
    policy: dict[str, Any] = rule["spec"]["trafficPolicy"]
    return policy


def _waypoint_pinned_to_its_zone(data: dict[str, Any]) -> None:
    """The waypoint's DR keeps its traffic in us-east-1a with `distribute`.

    explain: us-east-1a 100%; every other locality is in no `to`, so it gets no
    traffic even when us-east-1a is empty: cluster1 at zero -> no healthy
    upstream (503), never cluster2.
    """
    lb = _traffic_policy(data)["loadBalancer"]["localityLbSetting"]
    del lb["failoverPriority"]
    lb["distribute"] = [
        {"from": "us-east-1/us-east-1a/*", "to": {"us-east-1/us-east-1a/*": 100}}
    ]


def _no_outlier_detection(data: dict[str, Any]) -> None:
    """The waypoint's DR without outlierDetection: its failoverPriority is off.

    explain: the DR's localityLbSetting replaces the Service's PreferClose, and
    without outlierDetection failover is off: every pod at priority 0, 25% each.
    """
    del _traffic_policy(data)["outlierDetection"]


def _max_ejection_percent_unset(data: dict[str, Any]) -> None:
    """guide-000's DR without maxEjectionPercent: Envoy's default 10%.

    4 hosts: 100 * 1 / 4 = 25% > 10%, so Envoy (>= 1.28) never ejects one; the
    steady state (distribute 50/50, no faults) is unchanged.
    """
    del _traffic_policy(data)["outlierDetection"]["maxEjectionPercent"]


def _drill(
    experiment: str,
    tmp: Path,
    topology: str,
    edit: Edit | None = None,
    timing: dict[str, float] | None = None,
    **variables: str,
) -> DrillRun:
    variant = topology_variant(topology, tmp, timing=timing, edit=edit)
    return run_drill(
        experiment, tmp, variables={"lab_topology": str(variant), **variables}
    )


def _assert_missed(run: DrillRun, phase: str, *shown: str) -> str:
    """Non-zero exit, journal failed, `phase` named first; its reason shows `shown`."""
    assert run.code != 0, run.log[-3000:]
    # a miss before the method fails the run; in the method, the verdict control
    # interrupts it (rollbacks follow)
    expected = "interrupted" if phase.startswith("method: ") else "failed"
    assert run.journal["status"] == expected
    assert run.verdict["verdict"] == "failed"
    assert run.verdict["phase"] == phase, run.verdict["reasons"]
    reason = run.verdict["reasons"][0]
    assert reason.startswith(f"{phase}: "), reason
    for text in shown:
        assert text in reason, reason
    assert run.verdict["restore"]["failed"] == []
    return reason


def _rollbacks_succeeded(run: DrillRun) -> None:
    assert run.journal["rollbacks"], "no rollback ran"
    for rollback in run.journal["rollbacks"]:
        assert rollback["status"] == "succeeded", rollback


# -- steady state broken (the promise cannot even be stated) -----------------------


def test_cluster_failover_without_a_traffic_distribution_fails_before(
    tmp_path: Path,
):
    """OSS Istio ignores PreferNetwork: no preference, cluster2 answers at once."""
    run = _drill(
        "cluster_failover.json", tmp_path, "guide-001", _no_traffic_distribution
    )
    _assert_missed(run, "before: in-cluster1", "cluster2")
    assert run.phase("before: in-cluster1")["counts"]["cluster"]["cluster2"] > 0
    assert run.journal["run"] == []


@pytest.mark.parametrize(
    ("experiment", "phase", "leak"),
    [
        ("zone_failover.json", "before: in-the-client-zone", "us-east-1b"),
        (
            "zone_outage.json",
            "method: in-the-client-zone-before-the-outage",
            "us-east-1b",
        ),
    ],
)
def test_without_prefer_close_the_client_zone_is_not_preferred(
    tmp_path: Path, experiment: str, phase: str, leak: str
):
    """PreferClose removed: both zones of the client's network answer."""
    run = _drill(experiment, tmp_path, "guide-001-preferclose", _prefer_close_removed)
    _assert_missed(run, phase, leak)
    assert run.phase(phase)["counts"]["zone"][leak] > 0


def test_waypoint_failover_without_outlier_detection_fails_at_preflight(
    tmp_path: Path,
):
    """No outlierDetection at the waypoint: failover off; preflight says so first."""
    run = _drill(
        "waypoint_failover.json",
        tmp_path,
        "guide-001-waypoint",
        _no_outlier_detection,
    )
    _assert_missed(run, "before: preflight", "outlier-detection", "in-ambient-failover")
    assert run.journal["run"] == []


# -- steady state holds, the failover does not -------------------------------------


@pytest.mark.parametrize(
    ("experiment", "phase"),
    [
        ("cluster_failover.json", "method: all-traffic-fails-over-to-cluster2"),
        ("region_failover.json", "method: all-traffic-fails-over-to-the-other-region"),
        ("waypoint_failover.json", "method: all-traffic-fails-over-to-cluster2"),
    ],
)
def test_a_waypoint_distribute_pinned_to_its_zone_never_fails_over(
    tmp_path: Path, experiment: str, phase: str
):
    """Cluster1 at zero: the pinned waypoint answers 503, never from cluster2."""
    run = _drill(
        experiment,
        tmp_path,
        "guide-001-waypoint",
        _waypoint_pinned_to_its_zone,
        **SHORT,
    )
    _assert_missed(run, phase, "within 6 s", "status_503")
    assert run.verdict["phases"][0]["verdict"] == "within"  # steady state held
    assert run.phase(phase)["transition_errors"]["no_answer"] > 0
    _rollbacks_succeeded(run)


@pytest.mark.parametrize("experiment", ["zone_failover.json", "zone_outage.json"])
def test_the_guides_failover_priority_zone_region_leaves_the_region(
    tmp_path: Path, experiment: str
):
    """Guide 001's waypoint rule [zone, region]: other zone and other region tie."""
    run = _drill(
        experiment,
        tmp_path,
        "guide-001-waypoint",
        timing=SLOW_REPLACEMENT,
        **SHORT,
    )
    phase = "method: traffic-fails-over-to-the-other-zone"
    _assert_missed(run, phase, "within 6 s", "us-east-1b", "us-west-2")
    assert run.verdict["phases"][0]["verdict"] == "within"  # steady state held


def test_outlier_ejection_with_max_ejection_percent_unset_never_ejects(
    tmp_path: Path,
):
    """Envoy's default 10% of 4 hosts ejects none: 503s go on until the deadline."""
    run = _drill(
        "outlier_ejection.json",
        tmp_path,
        "guide-000",
        _max_ejection_percent_unset,
        **SHORT,
    )
    phase = "method: failing-pods-are-ejected"
    _assert_missed(run, phase, "within 6 s", "status_503")
    assert run.phase("before: traffic-splits-50-50")["verdict"] == "within"
    assert run.phase(phase)["transition_errors"]["status_503"] > 0
    _rollbacks_succeeded(run)


def _prefer_close(data: dict[str, Any]) -> dict[str, Any]:
    """guide-000 preferring its own zone (PreferClose on the Service, the DR's
    `distribute` gone); returns the DR's outlierDetection, to edit in place.

    explain (gateway, europe-west1-b): cluster A's pod there priority 0, the
    other zone's 1, cluster B's 2.
    """
    (workload,) = data["workloads"]
    workload["service"]["annotations"] = {TD: "PreferClose"}
    policy = _traffic_policy(data)
    del policy["loadBalancer"]
    outlier: dict[str, Any] = policy["outlierDetection"]
    return outlier


def _prefer_close_without_outlier_detection(data: dict[str, Any]) -> None:
    """Locality preference from the Service alone (forceFailover: no
    outlierDetection needed for it), and nothing to eject a gone pod."""
    _prefer_close(data)
    del _traffic_policy(data)["outlierDetection"]


def _prefer_close_max_ejection_percent_unset(data: dict[str, Any]) -> None:
    """outlierDetection without maxEjectionPercent: Envoy's 10% of 4 hosts ejects
    none (Envoy >= 1.28), so the detector is there and never acts."""
    del _prefer_close(data)["maxEjectionPercent"]


def test_control_plane_outage_without_outlier_detection_fails_at_preflight(
    tmp_path: Path,
):
    """With istiod down only ejection takes gone pods out: preflight says so first."""
    run = _drill(
        "control_plane_outage.json",
        tmp_path,
        "guide-000",
        _prefer_close_without_outlier_detection,
    )
    _assert_missed(run, "before: preflight", "outlier-detection", "no pod is ever")
    assert run.journal["run"] == []


def test_control_plane_outage_that_never_ejects_keeps_the_gone_pods(
    tmp_path: Path,
):
    """istiod down, cluster A's pods gone, none ejected: the gateway keeps sending
    every attempt (the first and both retries) to its stale priority-0 endpoint,
    503 until istiod is back; the steady state (all cluster A) held; the rollbacks
    bring istiod and the workload back."""
    run = _drill(
        "control_plane_outage.json",
        tmp_path,
        "guide-000",
        _prefer_close_max_ejection_percent_unset,
        **SHORT,
    )
    phase = "method: outlier-detection-fails-over-to-cluster-b"
    _assert_missed(run, phase, "within 6 s", "status_503")
    before = run.phase("before: traffic-splits-as-predicted")
    assert before["verdict"] == "within"
    assert set(before["counts"]["cluster"]) == {"cluster-a"}
    assert run.phase(phase)["transition_errors"]["no_answer"] > 0
    _rollbacks_succeeded(run)
    assert [r["output"]["deployment"] for r in run.journal["rollbacks"]] == [
        "istiod",
        "hello-world",
    ]


def _gateway_route_timeout_below_the_delay(data: dict[str, Any]) -> None:
    """guide-000's gateway VirtualService with a 100 ms route `timeout`.

    Fast answers are unaffected (steady state 50/50); once cluster A answers in
    0.3 s, the ingress gateway's Envoy answers 504 "upstream request timeout"
    first, and counts it against the host (Envoy: a local-origin timeout is a
    504 for outlier detection): consecutive5xxErrors 1 ejects cluster A, so the
    share moves to cluster B.
    """
    (service,) = objects(data, "VirtualService")
    service["spec"]["http"][0]["timeout"] = "100ms"


def test_slow_upstream_with_a_route_timeout_below_the_delay_moves_the_share(
    tmp_path: Path,
):
    """A route timeout turns slowness into 504s and ejection: not a slow upstream."""
    run = _drill(
        "slow_upstream.json",
        tmp_path,
        "guide-000",
        _gateway_route_timeout_below_the_delay,
        **SHORT,
    )
    phase = "method: share-unchanged-while-cluster-a-is-slow"
    _assert_missed(run, phase, "within 6 s", "cluster-b")
    assert run.phase("before: traffic-splits-50-50")["verdict"] == "within"
    assert run.phase(phase)["transition_errors"]["status_504"] > 0
    _rollbacks_succeeded(run)
