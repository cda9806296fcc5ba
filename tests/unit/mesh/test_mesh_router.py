"""Router: EDS pushes, outlier state, retries, and agreement with predict() (rule 8)."""

import random
from collections import Counter

import pytest
from mesh_factories import (
    GUIDE_000_DR,
    OUTLIER_ONLY_DR,
    dr_with,
    ep,
    eps,
    proxy,
    service,
)

from chaosext.mesh import DEFAULT_RETRIES, Endpoint, Router, predict
from tests.chisquare import chi_square

EJECT_FAST = dr_with(
    None,
    {
        "consecutive5xxErrors": 1,
        "interval": "1s",
        "baseEjectionTime": "30s",
        "maxEjectionPercent": 100,
    },
)


def router_for(dr, endpoints: list[Endpoint], seed: int = 7, **kw) -> Router:
    """A sidecar Router in r1/z1 with the given DR and endpoints."""
    svc = service(dr, **kw)
    router = Router(proxy(where="r1/z1"), svc, random.Random(seed))
    router.update(svc, endpoints)
    return router


def frequencies(router: Router, n: int, now: float = 0.0) -> Counter[str]:
    """How often each endpoint is picked in n picks (None counted as '503')."""
    counts: Counter[str] = Counter()
    for _ in range(n):
        host = router.pick(now)
        counts[host.name if host else "503"] += 1
    return counts


def test_default_retries_are_two():
    """Envoy proxies retry twice by default."""
    assert router_for(None, [ep("a")]).retries == DEFAULT_RETRIES == 2


def test_failure_report_ejects_and_moves_traffic():
    """One 503 with consecutive5xxErrors 1 ejects the local host; traffic fails over."""
    router = router_for(EJECT_FAST, [ep("local", "r1/z1"), ep("remote", "r2/z1")])
    router.report("local", 503, 0.0)
    assert router.ejected() == {"local"}
    assert set(frequencies(router, 50, 0.5)) == {"remote"}


def test_all_ejected_means_no_healthy_upstream():
    """Every host ejected with outlierDetection set: pick() is None (503)."""
    router = router_for(EJECT_FAST, [ep("a"), ep("b")])
    router.report("a", 503, 0.0)
    router.report("b", None, 0.0)
    assert router.pick(0.1) is None


def test_ejection_ends_on_a_tick_after_base_time():
    """The host is back after 30s, on the first 1s tick at or after ejection + 30s."""
    router = router_for(EJECT_FAST, [ep("a"), ep("b")])
    router.pick(0.0)
    router.report("a", 503, 0.5)
    router.tick(30.4)
    assert router.ejected() == {"a"}
    router.tick(31.0)
    assert router.ejected() == frozenset()


def test_scale_to_zero_fails_over_without_ejection():
    """The local group leaving EDS moves traffic fully to the next group."""
    router = router_for(OUTLIER_ONLY_DR, [ep("local", "r1/z1"), ep("remote", "r2/z1")])
    router.update(service(OUTLIER_ONLY_DR), [ep("remote", "r2/z1")])
    assert set(frequencies(router, 30)) == {"remote"}


def test_scale_back_returns_traffic_immediately():
    """Re-added local endpoints take priority 0 again at once (no history)."""
    svc = service(OUTLIER_ONLY_DR)
    router = router_for(OUTLIER_ONLY_DR, [ep("remote", "r2/z1")])
    router.update(svc, [ep("local", "r1/z1"), ep("remote", "r2/z1")])
    assert set(frequencies(router, 30)) == {"local"}


def test_endpoint_leaving_eds_loses_ejection():
    """An ejected host removed and re-added by EDS is fresh (not ejected)."""
    svc = service(EJECT_FAST)
    router = router_for(EJECT_FAST, [ep("a"), ep("b")])
    router.report("a", 503, 0.0)
    router.update(svc, [ep("b")])
    router.update(svc, [ep("a"), ep("b")])
    assert router.ejected() == frozenset()


def test_config_change_that_changes_the_cluster_resets_outlier_state():
    """A new outlier setting means a new Envoy cluster: ejections are forgotten."""
    router = router_for(EJECT_FAST, [ep("a"), ep("b")])
    router.report("a", 503, 0.0)
    changed = dr_with(None, {"consecutive5xxErrors": 2, "maxEjectionPercent": 100})
    router.update(service(changed), [ep("a"), ep("b")])
    assert router.ejected() == frozenset()


def test_pick_mostly_avoids_excluded_hosts():
    """previous_hosts: 6 attempts, so a tried host of two returns 1/64 of the time."""
    router = router_for(None, [ep("a"), ep("b")])
    n = 6400
    again = sum(router.pick(0.0, exclude={"a"}).name == "a" for _ in range(n))  # type: ignore[union-attr]
    assert 50 < again < 150


def test_pick_returns_tried_host_when_it_is_the_only_one():
    """With one host, the retry goes to the same host (Envoy returns the last pick)."""
    router = router_for(None, [ep("a")])
    assert router.pick(0.0, exclude={"a"}).name == "a"  # type: ignore[union-attr]


def test_blackholed_only_endpoints_give_none():
    """distribute listing only a locality with no endpoints: pick() is None."""
    dr = dr_with({"distribute": [{"from": "*", "to": {"r9": 100}}]})
    assert router_for(dr, [ep("a")]).pick(0.0) is None


def test_report_without_outlier_detection_ejects_nothing():
    """No outlierDetection: failures are not tracked."""
    router = router_for(None, [ep("a"), ep("b")])
    for t in range(10):
        router.report("a", 503, float(t))
    assert router.ejected() == frozenset()


@pytest.mark.parametrize(
    ("dr", "distribution", "endpoints", "failing"),
    [
        (EJECT_FAST, None, eps("l", 3, "r1/z1") + eps("r", 2, "r2/z1"), {"l0"}),
        (EJECT_FAST, None, eps("l", 3, "r1/z1") + eps("r", 2, "r1/z2"), {"l0", "l1"}),
        (
            GUIDE_000_DR,
            None,
            eps("e", 2, "europe-west1/b") + eps("u", 3, "us-central1/a"),
            set(),
        ),
        (
            GUIDE_000_DR,
            None,
            eps("e", 2, "europe-west1/b") + eps("u", 3, "us-central1/a"),
            {"e0"},
        ),
        (
            None,
            "PreferClose",
            [*eps("l", 2, "r1/z1"), ep("x", "r1/z1", ready=False)],
            set(),
        ),
        (None, None, eps("a", 2, "r1/z1") + eps("b", 2, "r2/z1", weight=3), set()),
    ],
)
def test_pick_frequencies_converge_to_predict(dr, distribution, endpoints, failing):
    """Router.pick frequencies agree with predict() (chi-square, fixed seed)."""
    svc = service(dr, distribution)
    router = Router(
        proxy(where="europe-west1/b" if dr is GUIDE_000_DR else "r1/z1"),
        svc,
        random.Random(11),
    )
    router.update(svc, endpoints)
    for name in failing:
        router.report(name, 503, 0.0)
    expected = predict(router.proxy, svc, endpoints, unhealthy=router.ejected())
    n = 20000
    counts = frequencies(router, n, 0.1)
    support = {k: p for k, p in expected.items() if p > 0}
    assert set(counts) <= set(support)
    assert chi_square(dict(counts), support).p_value > 0.0005


def test_a_retry_stays_in_the_priority_the_load_picks():
    """A stale local host (gone, but healthy to Envoy: no push since) holds all of
    priority 0's load: every previous_hosts re-pick lands on it again, never on
    priority 1. [E] `LoadBalancerBase::chooseHost` re-runs `chooseHostOnce`
    (priority by load, then host) hostSelectionRetryCount + 1 times and returns the
    last pick; Istio sets no retry_priority (only VirtualService
    `retryRemoteLocalities` adds previous_priorities)."""
    router = router_for(OUTLIER_ONLY_DR, [ep("local", "r1/z1"), ep("remote", "r2/z1")])
    picks = {router.pick(0.0, exclude={"local"}) for _ in range(200)}
    assert {p.name for p in picks if p is not None} == {"local"}
    assert None not in picks
