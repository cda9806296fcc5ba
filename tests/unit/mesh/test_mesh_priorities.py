"""istiod priorities: defaults, compaction, failover, failoverPriority (rule 4)."""

import pytest
from mesh_factories import OUTLIER_ONLY_DR, dr_with, ep, loc, proxy, service

from chaosext.mesh import assignment, predict
from chaosext.mesh.priorities import (
    lb_priority,
    locality_match,
    priority_label_overrides,
)
from chaosext.mesh.types import NETWORK, REGION, ZONE


def priorities_of(a) -> dict[str, int]:
    return {e.name: g.priority for g in a.groups for e in g.endpoints}


@pytest.mark.parametrize(
    ("endpoint", "raw"),
    [
        ("r1/z1/s1", 0),
        ("r1/z1/s2", 1),
        ("r1/z2/s1", 2),
        ("r2/z1/s1", 3),
    ],
)
def test_default_raw_priority(endpoint, raw):
    """LbPriority: 0 same subzone, 1 same zone, 2 same region, 3 other region."""
    assert lb_priority(loc("r1/z1/s1"), loc(endpoint)) == raw


def test_empty_localities_are_all_equal():
    """No topology labels anywhere puts every endpoint at priority 0."""
    assert lb_priority(loc(""), loc("")) == 0


def test_default_priorities_are_compacted():
    """Only raw priorities 0 and 3 present become 0 and 1."""
    a = assignment(
        proxy(where="r1/z1"),
        service(OUTLIER_ONLY_DR),
        [ep("a", "r1/z1"), ep("b", "r2/z9")],
    )
    assert priorities_of(a) == {"a": 0, "b": 1}


def test_next_group_becomes_p0_when_local_group_leaves():
    """Scaling the local group to zero makes the next group priority 0."""
    a = assignment(proxy(where="r1/z1"), service(OUTLIER_ONLY_DR), [ep("b", "r2/z9")])
    assert priorities_of(a) == {"b": 0}


def test_cluster_identity_is_not_locality():
    """Two clusters in the same zone are both priority 0."""
    a = assignment(
        proxy(where="r1/z1"),
        service(OUTLIER_ONLY_DR),
        [ep("a", "r1/z1", "cluster-a"), ep("b", "r1/z1", "cluster-b")],
    )
    assert priorities_of(a) == {"a": 0, "b": 0}


def test_same_zone_clusters_split_evenly():
    """Same-zone endpoints in two clusters get 50/50 with outlierDetection."""
    shares = predict(
        proxy(where="r1/z1"),
        service(OUTLIER_ONLY_DR),
        [ep("a", "r1/z1", "cluster-a"), ep("b", "r1/z1", "cluster-b")],
    )
    assert shares == pytest.approx({"a": 0.5, "b": 0.5})


def test_failover_pushes_regions_other_than_to_down():
    """failover r1 -> r3 keeps r3 before r2."""
    dr = dr_with({"failover": [{"from": "r1", "to": "r3"}]}, {})
    a = assignment(
        proxy(where="r1/z1"),
        service(dr),
        [ep("local", "r1/z1"), ep("two", "r2/z1"), ep("three", "r3/z1")],
    )
    assert priorities_of(a) == {"local": 0, "three": 1, "two": 2}


def test_failover_without_matching_from_leaves_regions_equal():
    """No failover entry for the proxy's region: foreign regions stay equal."""
    dr = dr_with({"failover": [{"from": "r7", "to": "r3"}]}, {})
    a = assignment(
        proxy(where="r1/z1"), service(dr), [ep("two", "r2/z1"), ep("three", "r3/z1")]
    )
    assert priorities_of(a) == {"two": 0, "three": 0}


def test_failover_priority_uses_n_minus_j_at_first_mismatch():
    """[region, zone]: same zone 0, same region 1, elsewhere 2."""
    dr = dr_with({"failoverPriority": [REGION, ZONE]}, {})
    a = assignment(
        proxy(where="r1/z1"),
        service(dr),
        [ep("same", "r1/z1"), ep("region", "r1/z2"), ep("far", "r2/z3")],
    )
    assert priorities_of(a) == {"same": 0, "region": 1, "far": 2}


def test_zone_first_failover_priority_makes_all_other_zones_equal():
    """[zone, region]: a zone mismatch ends the walk, so region is never consulted."""
    dr = dr_with({"failoverPriority": [ZONE, REGION]}, {})
    a = assignment(
        proxy(where="r1/z1"),
        service(dr),
        [ep("same", "r1/z1"), ep("region", "r1/z2"), ep("far", "r2/z3")],
    )
    assert priorities_of(a) == {"same": 0, "region": 1, "far": 1}


def test_failover_priority_stops_at_first_mismatch():
    """A later label matching does not help once an earlier one differs."""
    dr = dr_with({"failoverPriority": [REGION, ZONE]}, {})
    a = assignment(
        proxy(where="r1/z1"), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")]
    )
    assert priorities_of(a) == {"a": 0, "b": 1}


def test_failover_priority_uses_pod_labels():
    """Pod labels count for failoverPriority (a custom label)."""
    dr = dr_with({"failoverPriority": ["tier"]}, {})
    p = proxy(labels={"tier": "gold"})
    a = assignment(
        p,
        service(dr),
        [ep("gold", labels={"tier": "gold"}), ep("silver", labels={"tier": "silver"})],
    )
    assert priorities_of(a) == {"gold": 0, "silver": 1}


def test_failover_priority_override_compares_with_given_value():
    """`tier=silver` prefers silver endpoints whatever the proxy's label."""
    dr = dr_with({"failoverPriority": ["tier=silver"]}, {})
    a = assignment(
        proxy(labels={"tier": "gold"}),
        service(dr),
        [ep("gold", labels={"tier": "gold"}), ep("silver", labels={"tier": "silver"})],
    )
    assert priorities_of(a) == {"silver": 0, "gold": 1}


@pytest.mark.parametrize(
    ("items", "names", "overrides"),
    [
        (["a=b"], ["a"], {"a": "b"}),
        (["a="], ["a"], {"a": ""}),
        (["a=b=c"], ["a"], {}),
        (["a"], ["a"], {}),
    ],
)
def test_priority_label_overrides(items, names, overrides):
    """key=value overrides; key= means empty; k=a=b is no override."""
    assert priority_label_overrides(items) == (names, overrides)


def test_failover_priority_splits_a_locality_group():
    """One locality with two label values becomes two groups at two priorities."""
    dr = dr_with({"failoverPriority": ["tier"]}, {})
    a = assignment(
        proxy(labels={"tier": "gold"}),
        service(dr),
        [ep("g", labels={"tier": "gold"}), ep("s", labels={"tier": "silver"})],
    )
    assert [(g.priority, len(g.endpoints), g.weight) for g in a.groups] == [
        (0, 1, 1),
        (1, 1, 1),
    ]


def test_failover_priority_network_uses_endpoint_network():
    """The network label is augmented from the endpoint's network."""
    dr = dr_with({"failoverPriority": [NETWORK]}, {})
    a = assignment(
        proxy(network="n1"),
        service(dr),
        [ep("home", network="n1"), ep("away", "r1/z1", network="n2")],
    )
    assert priorities_of(a) == {"home": 0, "away": 1}


def test_failover_composed_with_failover_priority():
    """failover on top of failoverPriority: fp x 5 + locality priority, compacted."""
    dr = dr_with(
        {"failoverPriority": ["tier"], "failover": [{"from": "r1", "to": "r3"}]}, {}
    )
    endpoints = [
        ep("gold-r2", "r2/z1", labels={"tier": "gold"}),
        ep("gold-r3", "r3/z1", labels={"tier": "gold"}),
        ep("silver-r1", "r1/z1", labels={"tier": "silver"}),
    ]
    a = assignment(
        proxy(where="r1/z1", labels={"tier": "gold"}), service(dr), endpoints
    )
    assert priorities_of(a) == {"gold-r3": 0, "gold-r2": 1, "silver-r1": 2}


def test_failover_settings_do_nothing_without_outlier_detection():
    """failoverPriority without outlierDetection leaves everything at priority 0."""
    dr = dr_with({"failoverPriority": [ZONE, REGION]})
    a = assignment(
        proxy(where="r1/z1"), service(dr), [ep("a", "r1/z1"), ep("b", "r2/z1")]
    )
    assert priorities_of(a) == {"a": 0, "b": 0}


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        ("r1", True),
        ("r1/*", True),
        ("*", True),
        ("r1/z1", True),
        ("r1/z1/*", True),
        ("r1/z2", False),
        ("r2", False),
        ("r1/z1/s9", False),
    ],
)
def test_locality_match(rule, matches):
    """Rule localities match with equal, omitted or `*` trailing parts."""
    assert locality_match(loc("r1/z1/s1"), rule) is matches
