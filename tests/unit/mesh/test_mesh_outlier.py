"""Outlier detection: counting, max ejection, durations, ticks (rule 7)."""

import pytest

from chaosext.mesh.outlier import OutlierDetector
from chaosext.mesh.types import Outlier


def detector(hosts: int = 2, **settings) -> OutlierDetector:
    """A detector over hosts h0..h{n-1}, armed at t=0."""
    d = OutlierDetector(Outlier(**settings))
    d.set_hosts(f"h{i}" for i in range(hosts))
    d.start(0.0)
    return d


def fail(
    d: OutlierDetector, name: str, times: int, now: float = 0.0, status=503
) -> None:
    """Report `times` failures for `name` at `now`."""
    for _ in range(times):
        d.record(name, status, now)


def test_ejects_at_consecutive_5xx_threshold():
    """The 5th consecutive 5xx ejects (default threshold 5)."""
    d = detector(hosts=2, max_ejection_percent=100)
    fail(d, "h0", 4)
    assert d.ejected() == frozenset()
    fail(d, "h0", 1)
    assert d.ejected() == {"h0"}


def test_non_5xx_resets_the_counter():
    """A 200 between failures starts the count again."""
    d = detector(hosts=2, max_ejection_percent=100)
    fail(d, "h0", 4)
    d.record("h0", 200, 0.0)
    fail(d, "h0", 4)
    assert d.ejected() == frozenset()


def test_connect_failure_counts_as_503():
    """A connect failure (None) counts like a 503."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1)
    d.record("h0", None, 0.0)
    assert d.ejected() == {"h0"}


def test_consecutive_5xx_zero_never_ejects():
    """consecutive5xxErrors: 0 turns 5xx ejection off."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=0)
    fail(d, "h0", 50)
    assert d.ejected() == frozenset()


def test_gateway_errors_eject_only_when_set():
    """consecutiveGatewayErrors: 2 ejects after two 502s."""
    d = detector(
        hosts=2, max_ejection_percent=100, consecutive_5xx=0, consecutive_gateway=2
    )
    fail(d, "h0", 2, status=502)
    assert d.ejected() == {"h0"}


def test_500_resets_the_gateway_counter():
    """A 500 is a 5xx but not a gateway error: it resets the gateway count."""
    d = detector(
        hosts=2, max_ejection_percent=100, consecutive_5xx=0, consecutive_gateway=2
    )
    d.record("h0", 502, 0.0)
    d.record("h0", 500, 0.0)
    d.record("h0", 502, 0.0)
    assert d.ejected() == frozenset()


def test_split_local_origin_counts_connect_failures_apart():
    """With splitExternalLocalOriginErrors connect failures do not count as 5xx."""
    d = detector(
        hosts=2,
        max_ejection_percent=100,
        consecutive_5xx=1,
        split_local_origin=True,
        consecutive_local_origin=2,
    )
    d.record("h0", None, 0.0)
    assert d.ejected() == frozenset()
    d.record("h0", None, 0.0)
    assert d.ejected() == {"h0"}


def test_50_percent_of_one_host_is_never_ejected():
    """maxEjectionPercent 50 with a single host: 100 x 1/1 > 50, never ejected."""
    d = detector(hosts=1, max_ejection_percent=50, consecutive_5xx=1)
    fail(d, "h0", 10)
    assert d.ejected() == frozenset()


@pytest.mark.parametrize("hosts", [1, 2, 5, 9])
def test_default_max_ejection_with_fewer_than_10_hosts_never_ejects(hosts):
    """Unset maxEjectionPercent (10%) with fewer than 10 hosts ejects nothing."""
    d = detector(hosts=hosts, consecutive_5xx=1)
    for i in range(hosts):
        fail(d, f"h{i}", 3)
    assert d.ejected() == frozenset()


def test_default_max_ejection_with_10_hosts_ejects_one():
    """10% of 10 hosts allows exactly one ejection."""
    d = detector(hosts=10, consecutive_5xx=1)
    fail(d, "h0", 1)
    fail(d, "h1", 1)
    assert d.ejected() == {"h0"}


def test_50_percent_of_two_hosts_ejects_one():
    """50% of 2 hosts: the first ejection fits, the second does not."""
    d = detector(hosts=2, max_ejection_percent=50, consecutive_5xx=1)
    fail(d, "h0", 1)
    fail(d, "h1", 1)
    assert d.ejected() == {"h0"}


def test_unejection_happens_only_on_interval_ticks():
    """Ejected at t=5 for 30s, 10s interval: out at 39.9s, back at the 40s tick."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1, interval=10.0)
    d.advance(5.0)
    fail(d, "h0", 1, now=5.0)
    d.advance(34.9)
    assert d.ejected() == {"h0"}
    d.advance(39.9)
    assert d.ejected() == {"h0"}
    d.advance(40.0)
    assert d.ejected() == frozenset()


def test_ejection_durations_grow_by_base_up_to_300s():
    """Re-ejected right after each return: 30, 60, 90 ... 300, 300 seconds."""
    d = detector(
        hosts=2,
        max_ejection_percent=100,
        consecutive_5xx=1,
        interval=1.0,
        base_ejection_time=30.0,
    )
    now = 0.0
    durations = []
    for _ in range(12):
        fail(d, "h0", 1, now=now)
        start = now
        while "h0" in d.ejected():
            now += 1.0
            d.advance(now)
        durations.append(now - start)
    assert durations == [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300]


def test_backoff_decays_while_healthy():
    """After 2 ejections, two healthy ticks bring the next ejection back to 30s."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1, interval=1.0)
    fail(d, "h0", 1, now=0.0)
    d.advance(30.0)
    fail(d, "h0", 1, now=30.0)
    d.advance(90.0)  # back after 60s; 0 ticks healthy so far at t=90
    d.advance(93.0)  # three healthy ticks: backoff 2 -> 0
    fail(d, "h0", 1, now=93.0)
    d.advance(122.0)
    assert d.ejected() == {"h0"}
    d.advance(123.0)
    assert d.ejected() == frozenset()


def test_counters_reset_on_unejection():
    """A returned host needs a full new run of failures to be ejected again."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=2, interval=1.0)
    fail(d, "h0", 2, now=0.0)
    d.advance(30.0)
    fail(d, "h0", 1, now=30.0)
    assert d.ejected() == frozenset()


def test_removed_host_loses_its_state():
    """A host that leaves EDS and comes back starts fresh."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1)
    fail(d, "h0", 1)
    d.set_hosts(["h1"])
    d.set_hosts(["h0", "h1"])
    assert d.ejected() == frozenset()


def test_staying_host_keeps_its_state():
    """An EDS push that keeps a host keeps its ejection."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1)
    fail(d, "h0", 1)
    d.set_hosts(["h0", "h1", "h2"])
    assert d.ejected() == {"h0"}


def test_max_ejection_counts_hosts_in_every_priority():
    """N is every host of the cluster: 3 hosts, 50% -> one ejection only."""
    d = detector(hosts=3, max_ejection_percent=50, consecutive_5xx=1)
    fail(d, "h0", 1)
    fail(d, "h1", 1)
    assert d.ejected() == {"h0"}


def test_long_gap_is_processed_without_stepping_every_tick():
    """A jump of a day with a 1ms interval still unejects at the right time."""
    d = detector(hosts=2, max_ejection_percent=100, consecutive_5xx=1, interval=0.001)
    fail(d, "h0", 1, now=0.0)
    d.advance(29.999)
    assert d.ejected() == {"h0"}
    d.advance(86400.0)
    assert d.ejected() == frozenset()
