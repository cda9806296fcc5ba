"""Probes: how traffic splits across clusters, regions, zones or pods."""

import time
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from probes import arguments, latency, measure, predicted, stats
from probes.source import resolver_for, source_from

__all__ = ["hostname_split", "traffic_all_in"]


def hostname_split(
    expected: dict[str, float] | str,
    source: dict[str, Any],
    workload: dict[str, Any],
    by: str = "cluster",
    tolerance: float = 0.1,
    confidence: float = 0.95,
    samples: int = 400,
    max_samples: int = 2000,
    max_error_rate: float = 0.0,
    latency_at_least: dict[str, float] | None = None,
    latency_below: dict[str, float] | None = None,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Sample hostnames and judge the traffic split against `expected` shares.

    Sends `samples` requests through `source` (an ingress URL or a client pod;
    see probes.source), resolves each answering hostname to its pod, node, zone,
    region and cluster (`workload`: contexts, namespace, selector), and counts the
    answers by `by`. Each destination gets a Wilson interval at `confidence`; the
    verdict is `within` when every interval lies inside expected +/- `tolerance`,
    `outside` when one lies entirely outside, else `inconclusive`; then more
    samples are taken, up to `max_samples`, until the verdict is decisive.
    More than `max_error_rate` failed requests makes the verdict `outside`;
    unless `expected` names `error`: then failed requests (connect failures,
    resets, 5xx, timeouts) are a destination judged like the others, e.g.
    `{"error": 1.0}` when the client's traffic should have nowhere to go.
    `expected: "predicted"` judges against the split the live mesh's own config
    predicts for the source's client now (probes.predicted), by cluster, region,
    zone or pod. `latency_at_least` / `latency_below` (destination -> seconds):
    that destination's median latency must be at least / below it, else the
    verdict is `outside` (probes.latency).

    Suggested tolerance: {"type": "regex", "target": "verdict", "pattern": "^within$"}.
    Returns counts by cluster/region/zone/pod, shares, intervals, errors by kind,
    latency percentiles per destination (`latency`), the verdict,
    `needed_samples` when inconclusive, and reasons.
    Fails (ActivityFailed) when no request is answered, when no answer matches a
    pod of the workload, or when an argument is invalid (the message names it).
    """
    started = time.time()
    tolerance = arguments.real("tolerance", tolerance)
    confidence = arguments.real("confidence", confidence)
    samples = arguments.integer("samples", samples, low=1)
    max_samples = arguments.integer("max_samples", max_samples, low=1)
    max_error_rate = arguments.real("max_error_rate", max_error_rate, low=0.0)
    bounds = (
        latency.check_bounds(
            "latency_at_least", latency_at_least, configuration, secrets
        ),
        latency.check_bounds("latency_below", latency_below, configuration, secrets),
    )
    # answer times only where a latency bound judges them (one exec less otherwise)
    src = source_from(source, configuration, secrets, timed=any(bounds))
    resolver = resolver_for(workload, configuration, secrets)
    expected = predicted.expected_split(
        expected, source, workload, by, configuration, secrets
    )
    expected = measure.check_split(
        expected, tolerance, confidence, configuration, secrets
    )
    with src:
        counted = measure.measure(
            src, resolver, by, samples, errors=measure.expects_errors(expected)
        )
        counted, judged = measure.judge_split(
            src, resolver, by, counted, expected, tolerance, confidence, max_samples
        )
        report = measure.report("hostname_split", src, by, counted, judged, started)
    report = latency.apply_bounds(report, counted.latencies.get(by, {}), by, bounds)
    return measure.apply_error_budget(report, counted, max_error_rate)


def traffic_all_in(
    target: str,
    source: dict[str, Any],
    workload: dict[str, Any],
    by: str = "cluster",
    samples: int = 300,
    confidence: float = 0.95,
    max_leakage: float = 0.0,
    max_error_rate: float = 0.0,
    configuration: Configuration = None,
    secrets: Secrets = None,
) -> dict[str, Any]:
    """Check that all answers come from `target` (a cluster, region or zone name).

    Samples like `hostname_split` and reports how many answers came from outside
    `target`, with the upper bound of the leakage rate that the sample size
    allows at `confidence` (300 answers, none outside: leakage < 1% at 95%).
    Verdict `within` when the bound is at most `max_leakage` (0: no answer may
    leak), `outside` when leakage is certain, else `inconclusive`.

    Suggested tolerance: {"type": "regex", "target": "verdict", "pattern": "^within$"}.
    Fails (ActivityFailed) as `hostname_split` does.
    """
    started = time.time()
    samples = arguments.integer("samples", samples, low=1)
    confidence = arguments.real("confidence", confidence)
    max_leakage = arguments.real("max_leakage", max_leakage)
    max_error_rate = arguments.real("max_error_rate", max_error_rate, low=0.0)
    src = source_from(source, configuration, secrets, timed=False)
    resolver = resolver_for(workload, configuration, secrets)
    with src:
        counted = measure.measure(src, resolver, by, samples)
    try:
        judged = stats.all_in(
            counted.by(by), target, confidence=confidence, max_leakage=max_leakage
        )
    except ValueError as exc:
        raise ActivityFailed(f"traffic_all_in: {exc}") from exc
    report = measure.report("traffic_all_in", src, by, counted, dict(judged), started)
    report["target"] = target
    return measure.apply_error_budget(report, counted, max_error_rate)
