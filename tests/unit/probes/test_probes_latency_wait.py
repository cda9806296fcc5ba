"""wait_for_split with latency bounds: a batch whose median breaks one does not
count; a wait that never meets them says which destination, and its numbers."""

from typing import Any

from probes.sampling import Sample
from probes.wait_loop import Settings, Wait
from tests.unit.probes.test_probes_waiting import FakeClock, FakeResolver

SLOW, FAST = 0.5, 0.01
HALF = {"cluster-a": 0.5, "cluster-b": 0.5}


class TimedSource:
    """Batches of answers alternating pod-a and pod-b; pod-a's take `a_seconds`
    (one value per batch, the last repeats), pod-b's FAST."""

    def __init__(self, clock: FakeClock, a_seconds: list[float]) -> None:
        self.clock = clock
        self.a_seconds = a_seconds
        self.taken = 0

    def sample(self, count: int) -> Sample:
        a = self.a_seconds[min(self.taken, len(self.a_seconds) - 1)]
        self.taken += 1
        sample = Sample(total=count, started_at=self.clock.now)
        for i in range(count):
            sample.answers.append("pod-a" if i % 2 == 0 else "pod-b")
            sample.answer_times.append(self.clock.now + i * 0.01)
            sample.answer_latencies.append(a if i % 2 == 0 else FAST)
        self.clock.now += 1.0
        sample.finished_at = self.clock.now
        return sample

    def describe(self) -> str:
        return "timed source"


def run_wait(a_seconds: list[float], **settings: Any) -> dict[str, Any]:
    clock = FakeClock()
    wait = Wait(
        Settings(expected=HALF, batch=20, deadline=10.0, **settings),
        TimedSource(clock, a_seconds),
        FakeResolver(),
        clock=clock,
        wall=clock,
        title="waiting",
    )
    return wait.run()


def test_batches_count_once_the_delay_shows() -> None:
    """Fast batches (the fault not yet pushed) reset the streak; slow ones count."""
    report = run_wait(
        [FAST, FAST, SLOW],
        latency=({"cluster-a": 0.4}, {"cluster-b": 0.4}),
    )
    assert report["verdict"] == "within"
    assert [b["passed"] for b in report["batches"]] == [False, False, True, True, True]
    assert report["batches"][0]["verdict"] == "latency"
    assert report["latency"]["cluster"]["cluster-a"]["p50"] == SLOW
    assert report["latency"]["pod"]["pod-b"]["count"] >= 30  # 3 batches, topped up


def test_a_delay_that_never_shows_fails_naming_the_numbers() -> None:
    """Never slow: a timeout whose reason gives the median, count and bound."""
    report = run_wait([FAST], latency=({"cluster-a": 0.4}, {}))
    assert report["verdict"] == "timeout"
    (reason,) = report["reasons"]
    assert "latency of cluster cluster-a: median 0.010 s over 10 answers" in reason
    assert "below the 0.4 s it should be at least" in reason


def test_without_bounds_latency_is_reported_not_judged() -> None:
    """No bounds: slow or not, the split alone decides; percentiles are kept."""
    report = run_wait([SLOW])
    assert report["verdict"] == "within"
    assert report["latency"]["cluster"]["cluster-a"]["p99"] == SLOW
