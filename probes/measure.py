"""Shared steps of the split probes: sample and count, judge, top up, report."""

import time
from collections.abc import Mapping
from typing import Any, Protocol

from chaoslib import substitute
from chaoslib.exceptions import ActivityFailed

from probes import arguments, stats
from probes.sampling import Sample
from probes.tally import ERROR, Resolver, Tally, tally

__all__ = [
    "NoAnswer",
    "NoKnownAnswer",
    "apply_error_budget",
    "check_split",
    "expects_errors",
    "judge_split",
    "measure",
    "report",
]


class Sampler(Protocol):
    """Where batches come from (probes.source.Source, or a test's fake)."""

    def sample(self, count: int) -> Sample: ...

    def describe(self) -> str: ...


class NoAnswer(ActivityFailed):
    """Not one request of a batch was answered."""


class NoKnownAnswer(NoAnswer):
    """Answers came, but none from a pod of the workload (e.g. from pods deleted
    moments ago: a waiting probe counts the batch as still failing)."""


def check_split(
    expected: Any,
    tolerance: float,
    confidence: float,
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Validate a split's arguments; `${var}` keys of `expected` are substituted.

    Chaos Toolkit substitutes values but not keys, and destinations are often
    configuration values (kubeconfig contexts), so the probe does it for keys.
    """
    if not isinstance(expected, Mapping) or not expected:
        raise ActivityFailed(
            "argument 'expected' must map destinations to shares, e.g."
            ' {"${cluster_a_context}": 0.5, "${cluster_b_context}": 0.5}'
        )
    resolved = {
        str(substitute(str(k), dict(configuration or {}), dict(secrets or {}))): (
            arguments.real(f"expected[{k}]", v)
        )
        for k, v in expected.items()
    }
    try:
        stats.split_verdict({}, resolved, tolerance, confidence)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ActivityFailed(f"invalid split arguments: {exc}") from exc
    return resolved


def expects_errors(expected: Mapping[str, float]) -> bool:
    """Whether a split names failed requests as a destination (`ERROR`): then
    errors are judged as a share like any destination, not against a budget."""
    return ERROR in expected


def measure(
    src: Sampler, resolver: Resolver, by: str, count: int, *, errors: bool = False
) -> Tally:
    """Sample once and count; no answer at all, or none we know, is an error,
    unless `errors` are expected and some request failed (then they are data)."""
    sample = src.sample(count)
    counted = tally(sample, resolver, by)
    if errors and counted.error_total:
        return counted
    failed = ", ".join(f"{k} {v}" for k, v in sorted(sample.errors.items()))
    if counted.answered == 0:
        raise NoAnswer(
            f"no answer from {src.describe()}: {sample.total} requests, errors:"
            f" {failed or 'none'}"
        )
    if not counted.counts["pod"]:
        names = ", ".join(sorted(counted.unknown)[:3])
        raise NoKnownAnswer(
            f"none of {counted.answered} answers from {src.describe()} matches a pod"
            f" of the workload in {resolver.namespace} ({', '.join(resolver.contexts)},"
            f" selector '{resolver.label_selector}'); answers were: {names}"
            f"; errors: {failed or 'none'}"
        )
    return counted


def report(
    name: str,
    src: Sampler,
    by: str,
    counted: Tally,
    judged: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """The probe's output. When the split expected errors (`ERROR`), failed
    requests count as that destination in every grouping, as they were judged."""
    report: dict[str, Any] = {
        "probe": name,
        "source": src.describe(),
        "by": by,
        **judged,
        **counted.to_json(),
        "started_at": started,
        "duration": round(time.time() - started, 3),
    }
    if expects_errors(judged.get("expected") or {}) and counted.error_total:
        for grouping in report["counts"].values():
            grouping[ERROR] = grouping.get(ERROR, 0) + counted.error_total
    report["passed"] = report["verdict"] == "within"
    return report


def apply_error_budget(
    report: dict[str, Any], counted: Tally, max_error_rate: float
) -> dict[str, Any]:
    """An error rate above `max_error_rate` makes the verdict `outside`, unless
    the split expected errors (`ERROR`: they were judged as its share)."""
    if expects_errors(report.get("expected") or {}):
        return report
    rate = counted.error_total / counted.requests if counted.requests else 0.0
    if rate > max_error_rate:
        report["verdict"] = "outside"
        report["passed"] = False
        report.setdefault("reasons", []).append(
            f"errors: {counted.error_total} of {counted.requests} requests"
            f" ({rate:.1%}) above the budget of {max_error_rate:.1%}"
        )
    return report


def judge_split(
    src: Sampler,
    resolver: Resolver,
    by: str,
    counted: Tally,
    expected: dict[str, float],
    tolerance: float,
    confidence: float,
    max_samples: int,
) -> tuple[Tally, dict[str, Any]]:
    """Judge a split; while inconclusive, sample more (up to `max_samples`):
    as many as the statistics say would decide it, or, when they cannot say (a
    share right on a band's edge), up to `max_samples`. With `ERROR` expected,
    failed requests are a destination and count toward the sample."""
    errors = expects_errors(expected)

    def judge(counted: Tally) -> tuple[int, stats.SplitResult]:
        counts = counted.by(by, errors=errors)
        return sum(counts.values()), stats.split_verdict(
            counts, expected, tolerance, confidence
        )

    have, judged = judge(counted)
    while judged["verdict"] == "inconclusive" and have < max_samples:
        # no estimate (a share right on a band's edge): sample up to max_samples
        target = judged["needed_samples"] or max_samples
        more = max(50, min(max_samples, target) - have)
        counted = counted.add(measure(src, resolver, by, more, errors=errors))
        have, judged = judge(counted)
    return counted, dict(judged)
