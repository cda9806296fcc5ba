"""Probe: wait until traffic settles on a split, and measure how long it took."""

from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from chaosext import annotations, runcontext
from probes import arguments, latency, measure, predicted
from probes.progress import progress_for
from probes.source import resolver_for, source_from
from probes.wait_loop import Settings, Wait

__all__ = ["wait_for_split"]


def wait_for_split(
    expected: dict[str, float],
    source: dict[str, Any],
    workload: dict[str, Any],
    by: str = "cluster",
    tolerance: float = 0.1,
    confidence: float = 0.95,
    batch: int = 50,
    consecutive: int = 3,
    deadline: float = 60.0,
    max_samples: int = 2000,
    max_error_rate: float = 0.0,
    max_transition_errors: int | None = None,
    latency_at_least: dict[str, float] | None = None,
    latency_below: dict[str, float] | None = None,
    hold: float = 0.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Wait until `consecutive` batches in a row agree with `expected`; time the change.

    Polls batches of `batch` requests (as Istio's own locality tests do: 50 per
    batch, 3 in a row) until `consecutive` batches in a row pass the streak rule,
    or until `deadline` seconds have passed (no batch starts after it). A batch
    passes unless the statistics show the split is wrong: its Wilson intervals at
    `confidence` put some destination entirely outside expected +/- `tolerance`
    (probes.convergence); more than `max_error_rate` failed requests, or no answer
    from a pod of the workload, fail it too; unless `expected` names `error`
    (probes.tally.ERROR): then failed requests are a destination judged like the
    others (`{"error": 1.0}`: wait until every request fails). The run's batches,
    pooled (and topped
    up to `max_samples` while inconclusive), then get the verdict of
    `hostname_split`; a first batch that began in the old regime is replaced by
    one more batch when that one passes (docs/sampling.md).

    `transition_seconds` runs from the probe's start (right after the fault or the
    repair) to the first answer of the new regime, found among the timed answers
    of the last failed batch and the run (probes.transition), with
    `transition_resolution_seconds` beside it; `transition_batch_seconds` is the
    start of the run's first batch. The errors of failed batches are the client
    errors of the transition; more than `max_transition_errors` of them (when
    given) makes the verdict `outside`. `latency_at_least` / `latency_below`
    (destination -> seconds) bound a destination's median latency: a batch
    breaking one does not count, nor does the pooled run (probes.latency).
    Progress shows on stderr while it waits.
    given) makes the verdict `outside`. With `hold` (seconds), the passing streak
    must also span that long: a regime that lasts, not a transient (e.g. the
    connect failures of pods gone whose endpoints are not yet withdrawn, when the
    expectation is `{"error": 1.0}`). Progress shows on stderr while it waits.

    Put it right after the action whose effect it waits for. The verdict control
    fails the run when it does not pass (Chaos Toolkit ignores tolerances in the
    method). Returns everything `hostname_split` does plus `converged`,
    `transition_seconds`, `transition_errors`, and the per-batch timeline.
    Fails (ActivityFailed) only on invalid arguments or an unusable source.
    """
    if annotations.is_dry_run(configuration):
        return {"probe": "wait_for_split", "verdict": "skipped", "dry_run": True}
    expected = predicted.expected_split(  # "predicted": read once, at the start
        expected, source, workload, by, configuration, secrets
    )
    settings = settings_from(
        expected,
        by,
        tolerance,
        confidence,
        batch,
        consecutive,
        deadline,
        max_samples,
        max_error_rate,
        max_transition_errors,
        configuration,
        secrets,
        latency_at_least,
        latency_below,
        hold,
    )
    src = source_from(source, configuration, secrets)
    resolver = resolver_for(workload, configuration, secrets)
    with src:
        wait = Wait(
            settings,
            src,
            resolver,
            progress=progress_for(),
            title=f"waiting for {_describe(settings.expected)} by {by}",
            between=lambda: runcontext.raise_if_stopped(configuration),
        )
        return wait.run()


def settings_from(
    expected: Any,
    by: str,
    tolerance: Any,
    confidence: Any,
    batch: Any,
    consecutive: Any,
    deadline: Any,
    max_samples: Any,
    max_error_rate: Any,
    max_transition_errors: Any,
    configuration: Configuration = None,
    secrets: Secrets = None,
    latency_at_least: Any = None,
    latency_below: Any = None,
    hold: Any = 0.0,
) -> Settings:
    """The probe's arguments, checked (ActivityFailed names the one at fault)."""
    tolerance = arguments.real("tolerance", tolerance)
    confidence = arguments.real("confidence", confidence)
    deadline = arguments.real("deadline", deadline)
    if deadline <= 0:
        raise ActivityFailed(f"argument 'deadline' must be > 0, got {deadline:g}")
    budget = None
    if max_transition_errors is not None and max_transition_errors != "":
        budget = arguments.integer(
            "max_transition_errors", max_transition_errors, low=0
        )
    return Settings(
        expected=measure.check_split(
            expected, tolerance, confidence, configuration, secrets
        ),
        by=by,
        tolerance=tolerance,
        confidence=confidence,
        batch=arguments.integer("batch", batch, low=1),
        consecutive=arguments.integer("consecutive", consecutive, low=1),
        deadline=deadline,
        max_samples=arguments.integer("max_samples", max_samples, low=1),
        max_error_rate=arguments.real("max_error_rate", max_error_rate, low=0.0),
        max_transition_errors=budget,
        latency=(
            latency.check_bounds(
                "latency_at_least", latency_at_least, configuration, secrets
            ),
            latency.check_bounds(
                "latency_below", latency_below, configuration, secrets
            ),
        ),
        hold=arguments.real("hold", hold, low=0.0),
    )


def _describe(expected: dict[str, float]) -> str:
    return ", ".join(f"{dest} {share:.0%}" for dest, share in expected.items())
