"""ztunnel: ranked best set, no spill, no outlier detection, guide 001 (rule 9)."""

import random

import pytest
from mesh_factories import GUIDE_001_WAYPOINT_DR, by_prefix, ep, proxy, service

from chaosext.mesh import Endpoint, Proxy, Router, assignment, predict


def guide_001_client() -> Proxy:
    """The client-in-ambient pod in cluster1, zone us-east-1a (ztunnel's source)."""
    return proxy(
        "ztunnel", "us-east-1/us-east-1a", "cluster1", "cluster1-network", node="node-1"
    )


def guide_001_endpoints(
    east_a: int = 1, east_b: int = 1, west: int = 1
) -> list[Endpoint]:
    """in-ambient pods: cluster1 in us-east-1a/b, cluster2 in us-west-2a."""
    out = []
    for i in range(east_a):
        out.append(
            ep(f"east-a-{i}", "us-east-1/us-east-1a", "cluster1", "cluster1-network")
        )
    for i in range(east_b):
        out.append(
            ep(f"east-b-{i}", "us-east-1/us-east-1b", "cluster1", "cluster1-network")
        )
    for i in range(west):
        out.append(
            ep(f"west-{i}", "us-west-2/us-west-2a", "cluster2", "cluster2-network")
        )
    return out


CLOSE = service(None, "PreferClose")


@pytest.mark.parametrize(
    ("counts", "winner"),
    [
        ((1, 1, 1), "east-a"),
        ((0, 1, 1), "east-b"),
        ((0, 0, 1), "west"),
    ],
)
def test_guide_001_prefer_close_sequence(counts, winner):
    """PreferClose: all us-east-1a, then us-east-1b when 1a is gone, then us-west-2."""
    shares = predict(guide_001_client(), CLOSE, guide_001_endpoints(*counts))
    assert by_prefix(shares, [winner]) == {winner: 1.0}


def test_best_set_spreads_by_weight():
    """Within the best rank, connections spread in proportion to capacity."""
    endpoints = [
        ep("a", "us-east-1/us-east-1a", "cluster1", "cluster1-network", weight=3),
        ep("b", "us-east-1/us-east-1a", "cluster1", "cluster1-network"),
    ]
    shares = predict(guide_001_client(), CLOSE, endpoints)
    assert shares == pytest.approx({"a": 0.75, "b": 0.25})


def test_no_spill_when_best_endpoint_is_unhealthy():
    """No outlier detection in ztunnel: an unhealthy best endpoint keeps everything."""
    shares = predict(
        guide_001_client(), CLOSE, guide_001_endpoints(), unhealthy={"east-a-0"}
    )
    assert shares == {"east-a-0": 1.0}


def test_prefer_network_keeps_the_local_network():
    """PreferNetwork (vendor): both cluster1 zones, never cluster2 while they exist."""
    shares = predict(
        guide_001_client(), service(None, "PreferNetwork"), guide_001_endpoints()
    )
    assert shares == pytest.approx({"east-a-0": 0.5, "east-b-0": 0.5})


def test_prefer_network_fails_over_to_remote_network():
    """PreferNetwork: cluster1 scaled to zero -> all cluster2."""
    shares = predict(
        guide_001_client(), service(None, "PreferNetwork"), guide_001_endpoints(0, 0, 2)
    )
    assert shares == pytest.approx({"west-0": 0.5, "west-1": 0.5})


def test_no_traffic_distribution_means_no_preference():
    """Unset traffic distribution: every endpoint equal."""
    shares = predict(guide_001_client(), service(), guide_001_endpoints())
    assert shares == pytest.approx(
        {"east-a-0": 1 / 3, "east-b-0": 1 / 3, "west-0": 1 / 3}
    )


def test_destination_rules_are_ignored():
    """A DR's failoverPriority has no effect on ztunnel."""
    shares = predict(
        guide_001_client(), service(GUIDE_001_WAYPOINT_DR), guide_001_endpoints()
    )
    assert shares == pytest.approx(
        {"east-a-0": 1 / 3, "east-b-0": 1 / 3, "west-0": 1 / 3}
    )


def test_prefer_same_node_prefers_the_node():
    """PreferSameNode ranks the client's node first."""
    endpoints = [
        ep(
            "same-node",
            "us-east-1/us-east-1a",
            "cluster1",
            "cluster1-network",
            node="node-1",
        ),
        ep(
            "other-node",
            "us-east-1/us-east-1a",
            "cluster1",
            "cluster1-network",
            node="node-3",
        ),
    ]
    shares = predict(guide_001_client(), service(None, "PreferSameNode"), endpoints)
    assert shares == {"same-node": 1.0}


def test_rank_stops_at_first_mismatch():
    """Other network but same zone ranks below same network, other region."""
    endpoints = [
        ep("other-net-same-zone", "us-east-1/us-east-1a", "cluster3", "other-network"),
        ep("same-net-far", "us-west-2/us-west-2a", "cluster1", "cluster1-network"),
    ]
    shares = predict(guide_001_client(), CLOSE, endpoints)
    assert shares == {"same-net-far": 1.0}


def test_not_ready_endpoints_are_not_in_the_set():
    """A not-ready best endpoint is not chosen; the next rank serves."""
    endpoints = [
        ep(
            "east-a",
            "us-east-1/us-east-1a",
            "cluster1",
            "cluster1-network",
            ready=False,
        ),
        ep("east-b", "us-east-1/us-east-1b", "cluster1", "cluster1-network"),
    ]
    assert predict(guide_001_client(), CLOSE, endpoints) == {"east-b": 1.0}


def test_assignment_ranks_are_priorities():
    """Groups carry ranks as priorities: 0 best (zone), 1 region, 2 other network."""
    a = assignment(guide_001_client(), CLOSE, guide_001_endpoints())
    assert [(g.priority, str(g.locality)) for g in a.groups] == [
        (0, "us-east-1/us-east-1a"),
        (1, "us-east-1/us-east-1b"),
        (2, "us-west-2/us-west-2a"),
    ]


def test_router_reports_are_ignored_and_nothing_is_ejected():
    """ztunnel Router: failures change nothing, retries are 0."""
    router = Router(guide_001_client(), CLOSE, random.Random(1))
    router.update(CLOSE, guide_001_endpoints())
    for t in range(20):
        router.report("east-a-0", 503, float(t))
    picked = {router.pick(20.0).name for _ in range(20)}  # type: ignore[union-attr]
    assert (router.ejected(), picked, router.retries) == (frozenset(), {"east-a-0"}, 0)


def test_router_returns_none_without_endpoints():
    """ztunnel with no endpoints has nothing to connect to."""
    router = Router(guide_001_client(), CLOSE, random.Random(1))
    router.update(CLOSE, [])
    assert router.pick(0.0) is None
