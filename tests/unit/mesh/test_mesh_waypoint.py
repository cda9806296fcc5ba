"""Waypoints and gateways: Envoy semantics at their own locality (rules 10, 11)."""

import copy

import pytest
from mesh_factories import GUIDE_001_WAYPOINT_DR, by_prefix, ep, proxy, service

from chaosext.mesh import Endpoint, assignment, predict, validate_destination_rule
from chaosext.mesh.types import REGION, ZONE

WAYPOINT_SVC = service(GUIDE_001_WAYPOINT_DR)


def endpoints(
    east_a: int = 1, east_b: int = 1, west_a: int = 1, west_b: int = 1
) -> list[Endpoint]:
    """Guide 001 pods across both clusters and all four zones."""
    spec = [
        ("east-a", east_a, "us-east-1/us-east-1a", "cluster1"),
        ("east-b", east_b, "us-east-1/us-east-1b", "cluster1"),
        ("west-a", west_a, "us-west-2/us-west-2a", "cluster2"),
        ("west-b", west_b, "us-west-2/us-west-2b", "cluster2"),
    ]
    return [
        ep(f"{prefix}-{i}", where, cluster, f"{cluster}-network")
        for prefix, count, where, cluster in spec
        for i in range(count)
    ]


def waypoint(where: str = "us-east-1/us-east-1a"):
    """The httpbin waypoint in cluster1."""
    return proxy("waypoint", where, "cluster1", "cluster1-network")


def test_guide_001_waypoint_dr_is_valid():
    """The guide's waypoint DestinationRule passes validation cleanly."""
    assert validate_destination_rule(GUIDE_001_WAYPOINT_DR) == []


def test_waypoint_prefers_its_own_zone():
    """failoverPriority [zone, region]: the waypoint's zone takes everything."""
    shares = predict(waypoint(), WAYPOINT_SVC, endpoints())
    assert by_prefix(shares, ["east-a"]) == {"east-a": 1.0}


def test_guide_001_zone_region_order_does_not_prefer_the_region():
    """[zone, region] as in the guide: every other zone, near or far, is priority 1.

    Istio walks the labels in order and stops at the first mismatch, so an endpoint
    outside the waypoint's zone gets N - 0 whatever its region. The guide's "same zone,
    then same region, then other regions" needs [region, zone].
    """
    a = assignment(waypoint(), WAYPOINT_SVC, endpoints())
    assert {e.name: g.priority for g in a.groups for e in g.endpoints} == {
        "east-a-0": 0,
        "east-b-0": 1,
        "west-a-0": 1,
        "west-b-0": 1,
    }


def test_guide_001_losing_the_zone_spreads_over_region_and_other_region():
    """Guide DR, waypoint's zone empty: us-east-1b and both us-west-2 zones share."""
    shares = predict(waypoint(), WAYPOINT_SVC, endpoints(east_a=0))
    third = 1 / 3
    assert shares == pytest.approx(
        {"east-b-0": third, "west-a-0": third, "west-b-0": third}
    )


def test_region_then_zone_order_prefers_the_region():
    """[region, zone]: the waypoint's zone empty -> all to the same region."""
    spec = copy.deepcopy(GUIDE_001_WAYPOINT_DR)
    lb = spec["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
    lb["failoverPriority"] = [REGION, ZONE]
    shares = predict(waypoint(), service(spec), endpoints(east_a=0))
    assert shares == {"east-b-0": 1.0}


def test_waypoint_fails_over_to_cluster2_when_cluster1_scales_to_zero():
    """Guide 001 step 6: cluster1 at zero -> 100% cluster2, both zones."""
    shares = predict(waypoint(), WAYPOINT_SVC, endpoints(0, 0, 1, 1))
    assert shares == pytest.approx({"west-a-0": 0.5, "west-b-0": 0.5})


def test_decision_is_relative_to_the_waypoint_not_the_client():
    """A waypoint in us-east-1b prefers us-east-1b whatever zone the client is in."""
    shares = predict(waypoint("us-east-1/us-east-1b"), WAYPOINT_SVC, endpoints())
    assert by_prefix(shares, ["east-b"]) == {"east-b": 1.0}


def test_waypoint_ejected_local_pod_spills_per_envoy():
    """Local zone with 2 pods, one ejected: 70% stays, 30% spreads over priority 1."""
    shares = predict(
        waypoint(), WAYPOINT_SVC, endpoints(east_a=2), unhealthy={"east-a-0"}
    )
    assert by_prefix(shares, ["east-a", "east-b", "west"]) == {
        "east-a": 0.7,
        "east-b": 0.1,
        "west": 0.2,
    }


def test_waypoint_prefer_close_applies_at_the_waypoint():
    """Guide 001 step 5: PreferClose with no DR is enforced at the waypoint."""
    shares = predict(waypoint(), service(None, "PreferClose"), endpoints())
    assert by_prefix(shares, ["east-a"]) == {"east-a": 1.0}


@pytest.mark.parametrize("kind", ["gateway", "sidecar", "waypoint"])
def test_envoy_kinds_share_semantics(kind):
    """Gateway, sidecar and waypoint at the same locality predict the same shares."""
    p = proxy(kind, "us-east-1/us-east-1a", "cluster1", "cluster1-network")
    shares = predict(p, WAYPOINT_SVC, endpoints(east_b=2))
    assert by_prefix(shares, ["east-a"]) == {"east-a": 1.0}
