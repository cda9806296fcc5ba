"""wait_for_split during a transition: answers from pods deleted moments ago."""

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from chaosext.locality import Locality
from probes import waiting
from probes.sampling import Sample

POD_B = Locality("cluster-b", "net-b", "r-b", "z-b", "", "node-b", "pod-b")


class FakeSource:
    """Batches scripted in advance; the last one repeats."""

    def __init__(self, batches: list[Sample]) -> None:
        self._batches: Iterator[Sample] = itertools.chain(
            batches, itertools.repeat(batches[-1])
        )

    def sample(self, count: int) -> Sample:
        return next(self._batches)

    def describe(self) -> str:
        return "fake source"


class FakeResolver:
    """Knows pod-b only (pods deleted by the fault are gone from the API)."""

    namespace = "default"
    contexts = ("cluster-a", "cluster-b")
    label_selector = "app=x"

    def resolve(self, hostname: str) -> Locality | None:
        return POD_B if hostname == "pod-b" else None


def _wait(monkeypatch: pytest.MonkeyPatch, batches: list[Sample]) -> dict[str, Any]:
    source = FakeSource(batches)
    monkeypatch.setattr(waiting, "source_from", lambda *_: source)
    monkeypatch.setattr(waiting, "resolver_for", lambda *_: FakeResolver())
    return waiting.wait_for_split(
        {"cluster-b": 1.0}, {}, {}, batch=50, consecutive=3, deadline=30
    )


def test_a_batch_answered_only_by_deleted_pods_counts_as_still_failing(
    monkeypatch: pytest.MonkeyPatch,
):
    """One answer from a gone pod and 49 resets: the wait goes on, then converges."""
    transition = Sample(answers=["pod-a-deleted"], errors={"reset": 49}, total=50)
    settled = Sample(answers=["pod-b"] * 50, total=50)
    report = _wait(monkeypatch, [transition, settled])
    assert report["converged"] is True
    assert report["transition_errors"] == {"no_answer": 50}
    assert "matches a pod" in report["batches"][0]["note"]
    assert "reset 49" in report["batches"][0]["note"]
