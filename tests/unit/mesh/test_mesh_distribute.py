"""`distribute`: weights, first `from` wins, blackholing, guide 000 (rule 3)."""

import pytest
from mesh_factories import (
    GUIDE_000_DR,
    by_prefix,
    dr_with,
    ep,
    eps,
    loc,
    proxy,
    service,
)

from chaosext.mesh import (
    Endpoint,
    Locality,
    Proxy,
    ServiceConfig,
    assignment,
    predict,
)


def guide_000_endpoints(a_count: int = 2, b_count: int = 2) -> list[Endpoint]:
    """hello-world pods: cluster A in europe-west1, cluster B in us-central1."""
    return eps(
        "hello-world-a-", a_count, "europe-west1/europe-west1-b", "cluster-a"
    ) + eps("hello-world-b-", b_count, "us-central1/us-central1-a", "cluster-b")


def guide_000_gateway() -> Proxy:
    """The ingress gateway in cluster A."""
    return Proxy(
        "gateway",
        "istio-ingressgateway",
        "cluster-a",
        "n1",
        Locality("europe-west1", "europe-west1-b"),
    )


GUIDE_000 = ServiceConfig("hello-world.default.svc.cluster.local", GUIDE_000_DR)


def test_guide_000_gateway_splits_50_50():
    """Guide 000: both clusters healthy -> 50% A, 50% B (gateway in A)."""
    shares = predict(guide_000_gateway(), GUIDE_000, guide_000_endpoints())
    assert by_prefix(shares, ["hello-world-a", "hello-world-b"]) == {
        "hello-world-a": 0.5,
        "hello-world-b": 0.5,
    }


def test_guide_000_split_holds_with_unequal_pod_counts():
    """50/50 is per locality, not per pod: 1 pod in A and 3 in B still split 50/50."""
    shares = predict(guide_000_gateway(), GUIDE_000, guide_000_endpoints(1, 3))
    assert by_prefix(shares, ["hello-world-a", "hello-world-b"]) == {
        "hello-world-a": 0.5,
        "hello-world-b": 0.5,
    }


def test_guide_000_all_to_us_central1_when_europe_west1_has_no_endpoints():
    """Guide 000: A scaled to zero -> 100% B."""
    shares = predict(guide_000_gateway(), GUIDE_000, guide_000_endpoints(0, 2))
    assert by_prefix(shares, ["hello-world-b"]) == {"hello-world-b": 1.0}


def test_guide_000_all_to_us_central1_when_europe_west1_is_ejected():
    """Guide 000: A's pods ejected -> 100% B (localities weighted by health)."""
    shares = predict(
        guide_000_gateway(),
        GUIDE_000,
        guide_000_endpoints(),
        unhealthy={"hello-world-a-0", "hello-world-a-1"},
    )
    assert by_prefix(shares, ["hello-world-b"]) == {"hello-world-b": 1.0}


def test_weights_are_ceil_of_proportional_share():
    """`r1/*: 80` over zones with 2 and 3 pods gives 32 and 48."""
    dr = dr_with({"distribute": [{"from": "r1/*", "to": {"r1/*": 80, "r2/*": 20}}]})
    endpoints = eps("a", 2, "r1/z1") + eps("b", 3, "r1/z2") + eps("c", 1, "r2/z1")
    a = assignment(proxy(where="r1/z1"), service(dr), endpoints)
    assert {str(g.locality): g.weight for g in a.groups} == {
        "r1/z1": 32,
        "r1/z2": 48,
        "r2/z1": 20,
    }


def test_weights_round_up():
    """ceil(1 x 50 / 3) = 17 for each of three one-pod zones."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 50, "r2": 50}}]})
    endpoints = [ep("a", "r1/z1"), ep("b", "r1/z2"), ep("c", "r1/z3"), ep("d", "r2/z1")]
    a = assignment(proxy(), service(dr), endpoints)
    assert [g.weight for g in a.groups] == [17, 17, 17, 50]


def test_first_matching_from_wins():
    """The first `from` that matches the proxy's locality is used."""
    dr = dr_with(
        {
            "distribute": [
                {"from": "r1/z1", "to": {"r1": 100}},
                {"from": "r1/*", "to": {"r2": 100}},
            ]
        }
    )
    shares = predict(
        proxy(where="r1/z1"), service(dr), [ep("a", "r1/z2"), ep("b", "r2/z1")]
    )
    assert shares == {"a": 1.0}


def test_no_matching_from_leaves_assignment_unchanged():
    """No `from` matches: every endpoint stays, weighted by its locality."""
    dr = dr_with({"distribute": [{"from": "r9", "to": {"r1": 100}}]})
    shares = predict(
        proxy(where="r1/z1"), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")]
    )
    assert shares == pytest.approx({"a": 0.5, "b": 0.5})


def test_unlisted_locality_is_blackholed():
    """A locality in no `to` gets no traffic."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 100}}]})
    a = assignment(proxy(), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")])
    assert [e.name for e in a.blackholed] == ["b"]


def test_blackholed_even_when_every_listed_locality_fails():
    """All listed endpoints ejected: requests fail, the unlisted one gets nothing."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 100}}]}, {})
    shares = predict(
        proxy(), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")], unhealthy={"a"}
    )
    assert shares == {}


def test_blackholed_even_when_listed_locality_has_no_endpoints():
    """The listed locality scaled to zero: nothing is left to route to."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 100}}]})
    assert predict(proxy(), service(dr), [ep("b", "r2/z1")]) == {}


def test_distribute_works_without_outlier_detection():
    """distribute weights apply with no outlierDetection."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 80, "r2": 20}}]})
    shares = predict(proxy(), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")])
    assert shares == pytest.approx({"a": 0.8, "b": 0.2})


def test_distribute_does_not_use_priorities():
    """distribute leaves every endpoint at priority 0."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 80, "r2": 20}}]}, {})
    a = assignment(proxy(), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")])
    assert {g.priority for g in a.groups} == {0}


def test_distribute_wins_over_failover_priority():
    """distribute and failoverPriority together: only distribute applies."""
    dr = dr_with(
        {
            "distribute": [{"from": "*", "to": {"r1": 50, "r2": 50}}],
            "failoverPriority": ["topology.kubernetes.io/region"],
        },
        {},
    )
    shares = predict(
        proxy(where="r1/z1"), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")]
    )
    assert shares == pytest.approx({"a": 0.5, "b": 0.5})


def test_wildcard_to_spreads_over_subzones():
    """`r1/z1/*` claims all subzones of r1/z1."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1/z1/*": 100}}]})
    a = assignment(proxy(), service(dr), [ep("a", "r1/z1/s1"), ep("b", "r1/z1/s2")])
    assert {g.locality for g in a.groups} == {loc("r1/z1/s1"), loc("r1/z1/s2")}
