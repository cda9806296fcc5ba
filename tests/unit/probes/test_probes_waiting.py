"""wait_for_split's loop on a scripted source and a fake clock: every branch.

A batch is a string, one character per request: `a`/`b` an answer from pod-a
(cluster-a) / pod-b (cluster-b), `x` an answer from a pod deleted moments ago (no
longer in the API), `!` a reset.  Each batch takes BATCH_SECONDS on the fake clock,
its requests completing evenly across it, as a sampler stamps them.
"""

import io
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from chaoslib.exceptions import ActivityFailed, InterruptExecution
from rich.console import Console

from chaosext import runcontext
from chaosext.locality import Locality
from probes import waiting
from probes.progress import LineProgress, progress_for
from probes.sampling import Sample
from probes.wait_loop import Settings, Wait

BATCH_SECONDS = 0.5
PODS = {
    "pod-a": Locality("cluster-a", "net", "r-a", "z-a", "", "node-a", "pod-a"),
    "pod-b": Locality("cluster-b", "net", "r-b", "z-b", "", "node-b", "pod-b"),
}
NAMES = {"a": "pod-a", "b": "pod-b", "x": "pod-a-deleted"}
ALL_B = "b" * 50
HALF = "ab" * 25


class FakeClock:
    """Both the monotonic and the wall clock of a wait; only batches move it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ScriptedSource:
    """Batches scripted in advance (the last one repeats), on the fake clock."""

    def __init__(self, clock: FakeClock, batches: list[str]) -> None:
        self.clock = clock
        self._batches: Iterator[str] = itertools.chain(
            batches, itertools.repeat(batches[-1])
        )
        self.taken = 0

    def sample(self, count: int) -> Sample:
        script = next(self._batches) if self.taken < 10_000 else ""
        self.taken += 1
        start = self.clock.now
        step = BATCH_SECONDS / len(script)
        sample = Sample(total=len(script), started_at=start)
        for i, what in enumerate(script):
            at = start + (i + 1) * step
            if what == "!":
                sample.errors["reset"] = sample.errors.get("reset", 0) + 1
                sample.error_times.append((at, "reset"))
            else:
                sample.answers.append(NAMES[what])
                sample.answer_times.append(at)
        self.clock.now = sample.finished_at = start + BATCH_SECONDS
        return sample

    def describe(self) -> str:
        return "scripted source"


class FakeResolver:
    """Knows pod-a and pod-b (pods deleted by the fault are gone from the API)."""

    namespace = "default"
    contexts = ("cluster-a", "cluster-b")
    label_selector = "app=x"

    def resolve(self, hostname: str) -> Locality | None:
        return PODS.get(hostname)


def run_wait(
    batches: list[str],
    expected: dict[str, float] | None = None,
    progress: Any = None,
    clock: FakeClock | None = None,
    **settings: Any,
) -> dict[str, Any]:
    clock = clock or FakeClock()
    wait = Wait(
        Settings(expected=expected or {"cluster-b": 1.0}, **settings),
        ScriptedSource(clock, batches),
        FakeResolver(),
        clock=clock,
        wall=clock,
        progress=progress,
        title="waiting",
    )
    return wait.run()


def test_converges_at_once_when_traffic_already_moved() -> None:
    """All-in-B from the first answer: converged, within, the first answer is the
    transition, to the batch's first answer's precision."""
    report = run_wait([ALL_B], tolerance=0.03)
    assert (report["converged"], report["verdict"], report["passed"]) == (
        True,
        "within",
        True,
    )
    assert [b["passed"] for b in report["batches"]] == [True, True, True]
    assert report["transition_seconds"] == pytest.approx(BATCH_SECONDS / 50)
    assert report["transition_measured_by"] == "answer"
    assert report["transition_errors"] == {}


def test_transition_is_the_first_answer_of_the_new_regime() -> None:
    """50/50 before the fault took effect, then all-in-B from answer 20 of the
    second batch: the transition is that answer, not the batch's end or start."""
    moving = HALF[:20] + "b" * 30
    report = run_wait([HALF, moving, ALL_B], tolerance=0.03)
    assert report["converged"] is True
    assert [b["passed"] for b in report["batches"]][:2] == [False, False]
    last_a = moving.rindex("a")
    expected_at = BATCH_SECONDS + (last_a + 2) * BATCH_SECONDS / 50
    assert report["transition_seconds"] == pytest.approx(expected_at, abs=1e-3)
    assert report["transition_resolution_seconds"] == pytest.approx(0.01, abs=1e-4)
    assert report["transition_batch_seconds"] == pytest.approx(2 * BATCH_SECONDS)


def test_recovery_begins_at_the_first_answer_from_the_returning_cluster() -> None:
    """All-in-B, then 50/50 from answer 30 of a batch: the transition is the first
    answer from A."""
    returning = "b" * 30 + HALF[:20]
    report = run_wait(
        [ALL_B, returning, HALF],
        expected={"cluster-a": 0.5, "cluster-b": 0.5},
        max_samples=4000,
    )
    assert report["converged"] is True
    first_a = returning.index("a")
    expected_at = BATCH_SECONDS + (first_a + 1) * BATCH_SECONDS / 50
    assert report["transition_seconds"] == pytest.approx(expected_at, abs=1e-3)


def test_times_out_with_the_last_batch_and_the_errors_in_the_message() -> None:
    """Still 50/50 with resets at the deadline: verdict timeout, and the message
    names the last batch and the errors seen while waiting."""
    still = "ab" * 22 + "!" * 6
    report = run_wait([still], deadline=2.0, tolerance=0.03)
    assert (report["converged"], report["verdict"], report["passed"]) == (
        False,
        "timeout",
        False,
    )
    assert len(report["batches"]) == 4  # 0, 0.5, 1.0, 1.5: none starts at 2.0
    (reason,) = report["reasons"]
    assert "last batch: {'cluster-a': 22, 'cluster-b': 22} and 6 errors" in reason
    assert "errors while waiting: {'reset': 24}" in reason
    assert report["transition_seconds"] is None


def test_a_streak_that_breaks_restarts_from_the_next_passing_batch() -> None:
    """Two passing batches, one that shows the split wrong, three passing: the run
    that converged starts after the break, and the break's errors count."""
    wrong = "a" * 10 + "b" * 40
    report = run_wait([ALL_B, ALL_B, wrong, ALL_B, ALL_B, ALL_B], tolerance=0.03)
    assert [b["passed"] for b in report["batches"]] == [
        True,
        True,
        False,
        True,
        True,
        True,
    ]
    assert report["batches"][2]["verdict"] == "outside"
    assert report["converged"] is True
    assert report["transition_batch_seconds"] == pytest.approx(3 * BATCH_SECONDS)
    assert report["transition_seconds"] > 2 * BATCH_SECONDS


def test_a_batch_inside_the_tolerance_by_chance_does_not_reset_the_streak() -> None:
    """31/19 on a 50/50 split is outside a raw +-10% band but not shown wrong."""
    lopsided = "a" * 31 + "b" * 19
    report = run_wait(
        [lopsided, HALF, HALF],
        expected={"cluster-a": 0.5, "cluster-b": 0.5},
        max_samples=4000,
    )
    assert [b["passed"] for b in report["batches"]] == [True, True, True]
    assert report["batches"][0]["verdict"] == "inconclusive"
    assert report["verdict"] == "within"


@pytest.mark.parametrize(("budget", "verdict"), [(5, "outside"), (6, "within")])
def test_transition_error_budget(budget: int, verdict: str) -> None:
    """Six resets while traffic moved: over a budget of 5 the verdict is outside."""
    report = run_wait(
        ["!" * 6 + "b" * 44, ALL_B],
        tolerance=0.03,
        max_transition_errors=budget,
    )
    assert report["transition_errors"] == {"reset": 6}
    assert report["verdict"] == verdict
    if verdict == "outside":
        assert any("above the budget of 5" in r for r in report["reasons"])


def test_deadline_inside_a_batch_lets_that_batch_count() -> None:
    """A batch that starts before the deadline and ends after it still counts."""
    report = run_wait([ALL_B], deadline=1.2, tolerance=0.03)
    assert report["converged"] is True
    assert [b["t"] for b in report["batches"]] == [0.0, 0.5, 1.0]
    assert report["batches"][-1]["ended"] == pytest.approx(1.5)


def test_no_batch_starts_after_the_deadline() -> None:
    """The deadline lands inside the third batch: no fourth, so no streak of four."""
    report = run_wait([ALL_B], deadline=1.2, consecutive=4, tolerance=0.03)
    assert report["verdict"] == "timeout"
    assert len(report["batches"]) == 3


def test_a_batch_answered_only_by_deleted_pods_counts_as_still_failing() -> None:
    """One answer from a gone pod and 49 resets: the wait goes on, then converges."""
    report = run_wait(["x" + "!" * 49, ALL_B], tolerance=0.03)
    assert report["converged"] is True
    assert report["transition_errors"] == {"no_answer": 50}
    assert report["batches"][0]["verdict"] == "no_answer"
    assert "matches a pod" in report["batches"][0]["note"]
    assert "reset 49" in report["batches"][0]["note"]
    # the batch before gave no known answer: the run's first answer is the change
    assert report["transition_seconds"] == pytest.approx(
        BATCH_SECONDS + BATCH_SECONDS / 50
    )


def test_progress_prints_plain_lines_off_a_terminal() -> None:
    """Off a terminal: a plain line with shares, streak and clock, then the outcome."""
    out = io.StringIO()
    clock = FakeClock()
    progress = LineProgress(Console(file=out, width=200), every=0.0, clock=clock)
    run_wait([HALF, ALL_B], progress=progress, tolerance=0.03)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("waiting: batch 1 [cluster-a 50%, cluster-b 50%]")
    assert "outside; passed 0/3 in a row; 0.5 s of 60 s" in lines[0]
    assert "passed 3/3 in a row; 2.0 s of 60 s" in lines[3]
    assert lines[-1].startswith("waiting: converged after 4 batches")
    assert "\x1b[" not in out.getvalue()


def test_plain_progress_is_throttled() -> None:
    """At most one line per `every` seconds of the (injected) clock, plus the end."""
    out = io.StringIO()
    clock = FakeClock()
    progress = LineProgress(Console(file=out, width=200), every=1.0, clock=clock)
    run_wait([HALF] * 5 + [ALL_B], progress=progress, clock=clock, tolerance=0.03)
    lines = out.getvalue().splitlines()
    assert [line.split(" [")[0] for line in lines[:-1]] == [
        "waiting: batch 1",
        "waiting: batch 3",
        "waiting: batch 5",
        "waiting: batch 7",
    ]


def test_progress_is_live_on_a_terminal() -> None:
    """On a terminal the line is redrawn in place (cursor control), then the end."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    progress = progress_for(console)
    run_wait([HALF, ALL_B], progress=progress, tolerance=0.03)
    text = out.getvalue()
    assert "\x1b[" in text
    assert "\r" in text
    assert "converged after 4 batches" in text


def test_dry_run_samples_nothing() -> None:
    """A dry run skips the wait without reading its source."""
    report = waiting.wait_for_split(
        {"cluster-b": 1.0}, {}, {}, configuration=runcontext.for_call(dry_run=True)
    )
    assert report["verdict"] == "skipped"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"deadline": 0}, "deadline"),
        ({"batch": "many"}, "batch"),
        ({"hold": -1}, "hold"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    """Invalid arguments fail before anything is sampled, naming the argument."""
    with pytest.raises(ActivityFailed, match=field):
        waiting.wait_for_split({"cluster-b": 1.0}, {}, {}, **kwargs)


def test_a_pooled_share_on_the_band_edge_is_topped_up_not_left_inconclusive() -> None:
    """60/90 pooled on a 50/50 +-0.1 split sits on the edge (no sample size would
    decide it): the probe samples on up to max_samples instead of giving up."""
    edge = "a" * 20 + "b" * 30
    report = run_wait(
        [edge, edge, edge, HALF],
        expected={"cluster-a": 0.5, "cluster-b": 0.5},
        max_samples=1000,
    )
    assert report["verdict"] == "within"
    assert report["answered"] > 150


@pytest.mark.parametrize(
    ("noted", "raised"),
    [
        ({"safeguard": "error budget"}, SystemExit),
        ({"interrupted": "SIGINT"}, KeyboardInterrupt),
        ({"interrupted": "SIGTERM"}, InterruptExecution),
    ],
)
def test_a_stop_whose_exception_was_lost_ends_the_wait_at_the_next_batch(
    noted: dict[str, str], raised: type[BaseException]
) -> None:
    """A stop noted in the run's context (its signal's exception swallowed in a
    finalizer) ends the wait before another batch, as chaoslib's exit would."""
    clock = FakeClock()
    source = ScriptedSource(clock, [HALF])
    configuration = runcontext.for_call()
    wait = Wait(
        Settings(expected={"cluster-b": 1.0}, deadline=60.0),
        source,
        FakeResolver(),
        clock=clock,
        wall=clock,
        between=lambda: runcontext.raise_if_stopped(configuration),
    )
    context = runcontext.of(configuration)
    assert context is not None
    for field_name, value in noted.items():
        setattr(context, field_name, value)
    with pytest.raises(raised):
        wait.run()
    assert clock.now == 1000.0  # not one batch was taken


def test_a_run_that_was_not_stopped_waits_on() -> None:
    """No stop noted: the check lets every batch through."""
    configuration = runcontext.for_call()
    runcontext.raise_if_stopped(configuration)
    runcontext.raise_if_stopped(None)


# -- an expected split that names `error`: traffic with nowhere to go --------------

NOWHERE = {"error": 1.0}
ALL_RESETS = "!" * 50


def test_every_request_failing_converges_on_an_expected_error_share() -> None:
    """{"error": 1.0}: batches of resets only are data, not "no answer"; within."""
    report = run_wait(["a" * 50, "a" * 10 + "!" * 40, ALL_RESETS], NOWHERE)
    assert (report["converged"], report["verdict"], report["passed"]) == (
        True,
        "within",
        True,
    )
    assert report["shares"] == {"error": 1.0}
    assert report["intervals"]["error"][0] > 0.97
    assert report["errors"] == {"reset": 150}
    # as judged: errors are a destination in every grouping
    assert report["counts"]["cluster"] == {"error": 150}
    assert report["counts"]["zone"] == {"error": 150}
    assert [b["passed"] for b in report["batches"]] == [False] * 2 + [True] * 3
    # the first reset after the last answer from cluster-a begins the new regime
    assert report["transition_seconds"] == pytest.approx(
        BATCH_SECONDS + 11 * BATCH_SECONDS / 50
    )


def test_traffic_that_still_finds_a_way_never_matches_nowhere_to_go() -> None:
    """Answers from cluster-b while errors are expected: timeout, counts named."""
    report = run_wait([ALL_B], NOWHERE, deadline=2.0)
    assert (report["converged"], report["verdict"]) == (False, "timeout")
    assert "{'error': 1.0}" in report["reasons"][0]
    assert "{'cluster-b': 50}" in report["reasons"][0]


def test_some_answers_among_the_errors_show_the_error_share_is_wrong() -> None:
    """A fifth of requests still answered: each batch is `outside` 1±0.03 errors."""
    report = run_wait(["b" * 10 + "!" * 40], NOWHERE, tolerance=0.03, deadline=1.0)
    assert report["verdict"] == "timeout"
    assert {b["verdict"] for b in report["batches"]} == {"outside"}
    assert "last batch: {'cluster-b': 10} and 40 errors" in report["reasons"][0]


def test_a_split_without_error_still_fails_batches_on_errors() -> None:
    """Errors not named in the split: resets still fail a batch (max_error_rate)."""
    report = run_wait([ALL_RESETS], {"cluster-b": 1.0}, deadline=1.0)
    assert report["verdict"] == "timeout"
    assert report["batches"][0]["verdict"] == "no_answer"


def test_a_transient_of_errors_shorter_than_hold_does_not_converge() -> None:
    """Three batches of resets (1.5 s), then cluster-b answers: with hold 3 s the
    errors were a blip, not nowhere to go: timeout, and the streak's span named."""
    report = run_wait(
        [ALL_RESETS, ALL_RESETS, ALL_RESETS, ALL_B], NOWHERE, deadline=4.0, hold=3.0
    )
    assert report["verdict"] == "timeout"
    reason = report["reasons"][0]
    assert "no 3 consecutive batches of 50 spanning 3 s matched" in reason
    assert "last batch: {'cluster-b': 50}" in reason


def test_hold_keeps_sampling_until_the_streak_spans_it() -> None:
    """Errors that last: the streak grows past `consecutive` until it spans 3 s."""
    report = run_wait([ALL_RESETS], NOWHERE, hold=3.0)
    assert report["converged"] is True
    assert report["verdict"] == "within"
    assert len(report["batches"]) == 6  # 6 x 0.5 s = 3 s
    assert report["errors"] == {"reset": 300}


def test_progress_shows_expected_errors_as_a_share_and_the_time_held() -> None:
    """{"error": 1.0} with hold: the line reads `error 100%` and the span held."""
    out = io.StringIO()
    clock = FakeClock()
    progress = LineProgress(Console(file=out, width=200), every=0.0, clock=clock)
    report = run_wait([ALL_RESETS], NOWHERE, progress, clock, hold=1.0)
    assert report["converged"] is True
    lines = out.getvalue().splitlines()
    first = "batch 1 [error 100%] within; passed 1/3 in a row over 0.5 of 1 s"
    assert first in lines[0]
    assert "passed 3/3 in a row over 1.5 of 1 s" in lines[-2]


def test_stragglers_of_the_old_regime_are_judged_out_not_topped_up() -> None:
    """The streak's first batch straddles the switch (3 answers from A, then B):
    it passes the streak rule, but pooled, its stragglers would leave the verdict
    inconclusive and cost a top-up of hundreds of answers. The verdict judges one
    more batch in its place: three batches, all of the new regime."""
    straddling = "aaa" + "b" * 47
    report = run_wait([HALF, straddling, ALL_B], tolerance=0.03, max_samples=2000)
    assert report["verdict"] == "within"
    assert report["answered"] == 150
    assert report["counts"]["cluster"] == {"cluster-b": 150}
    assert [b["passed"] for b in report["batches"]] == [False, True, True, True, True]
    last_a = straddling.rindex("a")
    expected_at = BATCH_SECONDS + (last_a + 2) * BATCH_SECONDS / 50
    assert report["transition_seconds"] == pytest.approx(expected_at, abs=1e-3)


def test_a_batch_after_the_streak_that_fails_is_judged_with_the_rest() -> None:
    """The batch taken in place of the straddling one shows A again: it is not
    dropped, and nothing is: every answer of the run's end is judged."""
    straddling = "aaa" + "b" * 47
    report = run_wait(
        [HALF, straddling, ALL_B, ALL_B, HALF], tolerance=0.03, max_samples=200
    )
    assert report["verdict"] == "outside"
    assert report["answered"] == 200
