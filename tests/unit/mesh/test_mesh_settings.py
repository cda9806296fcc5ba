"""Which locality setting applies, failover gating and cluster knobs (rules 1, 2, 5)."""

import pytest
from mesh_factories import OUTLIER_ONLY_DR, dr_with, ep, eps, proxy, service

from chaosext.mesh import assignment, predict
from chaosext.mesh.settings import (
    applicable_setting,
    panic_threshold,
    parse_outlier,
    traffic_distribution,
)
from chaosext.mesh.types import HOSTNAME, NETWORK, REGION, SUBZONE, ZONE


def test_dr_locality_setting_is_used_whole():
    """A DR localityLbSetting replaces mesh and traffic distribution entirely."""
    svc = service(dr_with({"failover": [{"from": "r1", "to": "r3"}]}), "PreferClose")
    applied = applicable_setting(svc)
    assert applied.source == "destination-rule"
    assert applied.setting is not None
    assert applied.setting.failover_priority == ()
    assert not applied.force_failover


def test_dr_enabled_false_turns_locality_lb_off_even_with_traffic_distribution():
    """enabled: false in the DR suppresses the Service traffic distribution too."""
    svc = service(dr_with({"enabled": False}), "PreferClose")
    assert applicable_setting(svc).setting is None


@pytest.mark.parametrize(
    ("value", "labels"),
    [
        ("PreferClose", (NETWORK, REGION, ZONE)),
        ("PreferSameZone", (NETWORK, REGION, ZONE)),
        ("preferclose", (NETWORK, REGION, ZONE)),
        ("PreferSameNode", (NETWORK, REGION, ZONE, SUBZONE, HOSTNAME)),
        ("PreferNetwork", (NETWORK,)),
    ],
)
def test_traffic_distribution_becomes_failover_priority_with_force(value, labels):
    """Traffic distributions map to failoverPriority with forceFailover."""
    applied = applicable_setting(service(None, value))
    assert applied.setting is not None
    assert applied.setting.failover_priority == labels
    assert applied.force_failover


@pytest.mark.parametrize("value", [None, "", "Any", "PreferFar"])
def test_unknown_or_unset_traffic_distribution_is_ignored(value):
    """Unset or unknown traffic distribution values count as none."""
    assert traffic_distribution(value) is None


def test_mesh_default_applies_without_dr_setting():
    """No DR setting and no traffic distribution: the mesh default applies."""
    applied = applicable_setting(service(OUTLIER_ONLY_DR))
    assert applied.source == "mesh"
    assert applied.setting is not None


def test_mesh_enabled_false_turns_locality_lb_off():
    """Mesh localityLbSetting enabled: false means no locality LB."""
    svc = service(OUTLIER_ONLY_DR, mesh_locality_lb={"enabled": False})
    assert applicable_setting(svc).setting is None


def test_no_outlier_detection_means_no_locality_preference():
    """No outlierDetection: every endpoint in every cluster shares evenly."""
    endpoints = eps("a", 2, "r1/z1", "c1") + eps("b", 2, "r2/z1", "c2")
    shares = predict(proxy(where="r1/z1"), service(None), endpoints)
    assert shares == pytest.approx({e.name: 0.25 for e in endpoints})


def test_outlier_detection_turns_locality_failover_on():
    """Adding outlierDetection (mesh default) sends all traffic to the local zone."""
    endpoints = eps("a", 2, "r1/z1", "c1") + eps("b", 2, "r2/z1", "c2")
    shares = predict(proxy(where="r1/z1"), service(OUTLIER_ONLY_DR), endpoints)
    assert shares == pytest.approx({"a0": 0.5, "a1": 0.5})


def test_traffic_distribution_fails_over_without_outlier_detection():
    """PreferClose on a sidecar prefers the same zone with no outlierDetection."""
    endpoints = [ep("near", "r1/z1"), ep("far", "r1/z2")]
    shares = predict(proxy(where="r1/z1"), service(None, "PreferClose"), endpoints)
    assert shares == {"near": 1.0}


def test_enabled_false_ignores_outlier_detection_for_locality():
    """enabled: false with outlierDetection still spreads over all endpoints."""
    dr = dr_with({"enabled": False}, {})
    endpoints = [ep("near", "r1/z1"), ep("far", "r2/z1")]
    shares = predict(proxy(where="r1/z1"), service(dr), endpoints)
    assert shares == pytest.approx({"near": 0.5, "far": 0.5})


@pytest.mark.parametrize(
    ("dr", "distribution", "expected"),
    [
        (None, None, 50.0),
        (OUTLIER_ONLY_DR, None, 0.0),
        (dr_with(None, {"minHealthPercent": 30}), None, 30.0),
        (None, "PreferClose", 0.0),
        (dr_with(None, {"minHealthPercent": 30}), "PreferClose", 0.0),
    ],
)
def test_panic_threshold(dr, distribution, expected):
    """Panic: 50% unset, minHealthPercent with outlierDetection, 0 with distribution."""
    svc = service(dr, distribution)
    assert panic_threshold(svc, parse_outlier(svc)) == expected


def test_outlier_defaults():
    """An empty outlierDetection gets Envoy/Istio defaults."""
    outlier = parse_outlier(service(OUTLIER_ONLY_DR))
    assert outlier is not None
    assert (
        outlier.consecutive_5xx,
        outlier.consecutive_gateway,
        outlier.interval,
        outlier.base_ejection_time,
        outlier.max_ejection_time,
        outlier.max_ejection_percent,
    ) == (5, 0, 10.0, 30.0, 300.0, 10.0)


def test_max_ejection_time_is_at_least_base():
    """max_ejection_time defaults to max(300s, base)."""
    outlier = parse_outlier(service(dr_with(None, {"baseEjectionTime": "10m"})))
    assert outlier is not None
    assert outlier.max_ejection_time == 600.0


def test_bad_duration_in_dr_names_the_field():
    """An invalid duration raises ValueError naming the field."""
    with pytest.raises(ValueError, match=r"outlierDetection\.interval"):
        assignment(proxy(), service(dr_with(None, {"interval": "soon"})), [])


@pytest.mark.parametrize(
    ("dr", "weighted"),
    [
        (dr_with({"distribute": [{"from": "*", "to": {"r1": 100}}]}), True),
        (dr_with({"failoverPriority": [ZONE]}, {}), True),
        (dr_with({"failover": [{"from": "r1", "to": "r2"}]}, {}), True),
        (dr_with({"failoverPriority": [ZONE]}), False),
        (OUTLIER_ONLY_DR, False),
        (None, False),
    ],
)
def test_locality_weighted_lb_only_where_istio_sets_it(dr, weighted):
    """Locality-weighted LB: distribute, or failover on with failover settings."""
    assert assignment(proxy(), service(dr), [ep("a")]).locality_weighted is weighted


def test_not_ready_endpoints_are_dropped_without_traffic_distribution():
    """Not-ready endpoints are not sent when the Service has no traffic distribution."""
    a = assignment(proxy(), service(OUTLIER_ONLY_DR), [ep("a"), ep("b", ready=False)])
    assert [e.name for e in a.endpoints()] == ["a"]


def test_not_ready_endpoints_count_as_unhealthy_with_traffic_distribution():
    """PreferClose sends a not-ready endpoint, which counts: 1 of 2 ready -> 70/30."""
    endpoints = [ep("a0"), ep("a1", ready=False), ep("b0", "r1/z2")]
    shares = predict(proxy(), service(None, "PreferClose"), endpoints)
    assert shares == pytest.approx({"a0": 0.7, "b0": 0.3})
