"""Envoy priority load, panic and locality weights (rules 5, 6)."""

import pytest
from mesh_factories import OUTLIER_ONLY_DR, by_prefix, dr_with, ep, eps, proxy, service

from chaosext.mesh import predict
from chaosext.mesh.envoy import (
    choose_priority,
    effective_locality_weight,
    priority_health,
    priority_load,
)


@pytest.mark.parametrize(
    ("hosts", "healthy", "split"),
    [
        (2, 1, (70, 30)),
        (3, 2, (93, 7)),
        (3, 1, (46, 54)),
        (4, 3, (100, 0)),
    ],
)
def test_worked_priority_loads(hosts, healthy, split):
    """Reference numbers: 2/1 -> 70/30, 3/2 -> 93/7, 3/1 -> 46/54, 4/3 -> 100/0."""
    assert priority_load([(hosts, healthy), (2, 2)], 0).loads == split


@pytest.mark.parametrize(
    ("hosts", "healthy", "split"),
    [
        (2, 1, (0.70, 0.30)),
        (3, 2, (0.93, 0.07)),
        (3, 1, (0.46, 0.54)),
        (4, 3, (1.0, 0.0)),
    ],
)
def test_worked_numbers_end_to_end(hosts, healthy, split):
    """predict() gives the same spill with ejected hosts in the local zone."""
    endpoints = eps("local", hosts, "r1/z1") + eps("remote", 2, "r2/z1")
    ejected = {f"local{i}" for i in range(hosts - healthy)}
    shares = predict(
        proxy(where="r1/z1"), service(OUTLIER_ONLY_DR), endpoints, unhealthy=ejected
    )
    assert by_prefix(shares, ["local", "remote"]) == {
        "local": split[0],
        "remote": split[1],
    }


@pytest.mark.parametrize(
    ("hosts", "healthy", "health"),
    [(0, 0, 0), (1, 1, 100), (10, 7, 98), (10, 8, 100), (5, 0, 0)],
)
def test_priority_health(hosts, healthy, health):
    """health = min(100, floor(140 x healthy / hosts))."""
    assert priority_health(hosts, healthy) == health


def test_remainder_goes_to_first_healthy_priority():
    """Rounding remainder lands on the first priority with health > 0."""
    # health 28 each -> NTA 84 -> floor(2800 / 84) = 33 each, remainder 1 to P0
    assert priority_load([(10, 2), (10, 2), (10, 2)], 0).loads == (34, 33, 33)


def test_all_ejected_with_panic_off_is_no_healthy_upstream():
    """Panic threshold 0 and nothing healthy: every request fails."""
    assert priority_load([(2, 0), (2, 0)], 0).no_healthy


def test_all_ejected_with_outlier_detection_predicts_nothing():
    """With outlierDetection set, all hosts ejected -> {} (503), not panic routing."""
    endpoints = eps("a", 2, "r1/z1")
    shares = predict(
        proxy(), service(OUTLIER_ONLY_DR), endpoints, unhealthy={"a0", "a1"}
    )
    assert shares == {}


def test_total_panic_loads_follow_host_counts():
    """All priorities in panic: load is proportional to host counts."""
    load = priority_load([(1, 0), (3, 0)], 50)
    assert (load.loads, load.panic) == ((25, 75), (True, True))


def test_panic_without_outlier_detection_routes_to_all_hosts():
    """Default 50% panic: the one priority with all hosts unhealthy uses all of them."""
    endpoints = eps("a", 2, "r1/z1")
    shares = predict(proxy(), service(None), endpoints, unhealthy={"a0", "a1"})
    assert shares == pytest.approx({"a0": 0.5, "a1": 0.5})


def test_panic_includes_ejected_hosts_of_the_priority():
    """A panicking priority spreads over healthy and unhealthy hosts alike."""
    load = priority_load([(4, 1)], 50)
    assert load.panic == (True,)


def test_no_panic_when_total_health_is_100():
    """A weak priority does not panic while normalised total health is 100."""
    load = priority_load([(4, 1), (4, 4)], 50)
    assert load.panic == (False, False)


@pytest.mark.parametrize(
    ("weight", "hosts", "healthy", "effective"),
    [
        (10, 2, 2, 10.0),
        (10, 2, 1, 7.0),
        (10, 4, 3, 10.0),
        (10, 0, 0, 0.0),
        (10, 3, 0, 0.0),
    ],
)
def test_effective_locality_weight(weight, hosts, healthy, effective):
    """w x min(1, 1.4 x healthy / hosts)."""
    assert effective_locality_weight(weight, hosts, healthy) == pytest.approx(effective)


def test_locality_weighted_choice_within_priority():
    """Localities are chosen by effective weight: 50 x 0.7 for a half-ejected one."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r1": 50, "r2": 50}}]}, {})
    endpoints = eps("a", 2, "r1/z1") + eps("b", 2, "r2/z1")
    shares = predict(proxy(), service(dr), endpoints, unhealthy={"a0"})
    # r1 effective 50 x 0.7 = 35, r2 50: a1 35/85, b0 and b1 25/85 each
    assert shares == pytest.approx({"a1": 35 / 85, "b0": 25 / 85, "b1": 25 / 85})


def test_default_failover_balances_hosts_ignoring_locality():
    """Default failover sets no locality weighting: hosts in P0 share evenly."""
    endpoints = eps("a", 1, "r1/z1", "ca") + eps("b", 3, "r1/z1", "cb")
    shares = predict(proxy(), service(OUTLIER_ONLY_DR), endpoints)
    assert shares == pytest.approx({e.name: 0.25 for e in endpoints})


def test_host_weights_are_respected():
    """Within a source, hosts are chosen in proportion to their weight."""
    shares = predict(proxy(), service(None), [ep("heavy", weight=3), ep("light")])
    assert shares == pytest.approx({"heavy": 0.75, "light": 0.25})


@pytest.mark.parametrize(("draw", "priority"), [(1, 0), (70, 0), (71, 1), (100, 1)])
def test_choose_priority(draw, priority):
    """choosePriority: first priority whose cumulative load reaches the draw."""
    assert choose_priority([70, 30], draw) == priority
