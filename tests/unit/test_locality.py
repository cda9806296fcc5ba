"""The locality resolver: cached, refreshed on an unknown pod, never forgetting."""

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from chaosext import locality
from chaosext.locality import Locality, LocalityResolver


def where(pod: str, zone: str) -> Locality:
    return Locality("cluster-a", "net-a", "europe-west1", zone, "", "node-1", pod)


class FakeCluster:
    """What the resolver lists, per refresh; counts how often it listed."""

    def __init__(self, *listings: dict[str, Locality]) -> None:
        self.listings = list(listings)
        self.lists = 0

    def list(self, *_: Any) -> dict[str, Locality]:
        self.lists += 1
        return self.listings[min(self.lists, len(self.listings)) - 1]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster(
        {"web-1": where("web-1", "b")},
        {"web-2": where("web-2", "c")},  # web-1 deleted, web-2 replaced it
    )

    @contextlib.contextmanager
    def connect(*_: Any) -> Iterator[object]:
        yield object()

    monkeypatch.setattr(locality.clusters, "connect", connect)
    monkeypatch.setattr(locality, "_list_localities", fake.list)
    return fake


def resolver(clock: list[float]) -> LocalityResolver:
    return LocalityResolver(["cluster-a"], "default", clock=lambda: clock[0])


def test_known_pods_are_resolved_from_the_cache(cluster: FakeCluster):
    """One listing serves every answer from a known pod."""
    clock = [0.0]
    r = resolver(clock)
    assert r.resolve("web-1") == where("web-1", "b")
    clock[0] = 10.0
    assert r.resolve("web-1") == where("web-1", "b")
    assert cluster.lists == 1


def test_an_unknown_pod_triggers_one_refresh(cluster: FakeCluster):
    """A replacement pod answers: the resolver lists again and finds it."""
    clock = [0.0]
    r = resolver(clock)
    r.resolve("web-1")
    clock[0] = 1.0
    assert r.resolve("web-2") == where("web-2", "c")
    assert cluster.lists == 2


def test_a_deleted_pod_keeps_its_locality(cluster: FakeCluster):
    """A pod that answered while terminating still counts for its cluster."""
    clock = [0.0]
    r = resolver(clock)
    r.resolve("web-1")
    clock[0] = 1.0
    r.resolve("web-2")
    assert r.resolve("web-1") == where("web-1", "b")


def test_refreshes_are_rate_limited(cluster: FakeCluster):
    """A burst of unknown hostnames lists at most once per refresh_after."""
    clock = [0.0]
    r = resolver(clock)
    r.resolve("web-1")
    assert r.resolve("nobody") is None
    assert r.resolve("nobody-else") is None
    assert cluster.lists == 1
