"""Count sampled answers by where they came from: cluster, region, zone, pod..."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from chaosext.locality import Locality
from probes import latency
from probes.sampling import Sample

__all__ = ["ERROR", "GROUPINGS", "Resolver", "Tally", "tally"]


class Resolver(Protocol):
    """What a tally needs of a resolver (LocalityResolver, or a test's fake)."""

    @property
    def namespace(self) -> str: ...

    @property
    def contexts(self) -> Sequence[str]: ...

    @property
    def label_selector(self) -> str: ...

    def resolve(self, hostname: str) -> Locality | None: ...


GROUPINGS = ("cluster", "region", "zone", "pod")
"""The groupings every report carries, whatever the split is judged by."""

ERROR = "error"
"""The destination a failed request counts as when an expected split names it
(`{"error": 1.0}`: every request fails; the failover has nowhere to go). Reserved:
a cluster, region or zone of that name cannot be told apart from it."""


@dataclass
class Tally:
    """Answers counted per grouping; errors and unknown hostnames kept apart."""

    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {g: Counter() for g in GROUPINGS}
    )
    unknown: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    latencies: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: {g: {} for g in GROUPINGS}
    )
    """Seconds per timed answer, per grouping and destination (`probes.latency`)."""
    events: list[tuple[float, str]] = field(default_factory=list)
    """(time, what) per timed answer or error, in time order: the destination in
    the tallied grouping, "unknown", or "error:<kind>" (not in to_json)."""

    @property
    def answered(self) -> int:
        return sum(self.counts["pod"].values()) + sum(self.unknown.values())

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def by(self, dimension: str, *, errors: bool = False) -> dict[str, int]:
        """Counts for one grouping; unknown hostnames count as "unknown", and
        with `errors` failed requests count as `ERROR`."""
        counts = dict(self.counts.get(dimension, Counter()))
        if self.unknown:
            counts["unknown"] = counts.get("unknown", 0) + sum(self.unknown.values())
        if errors and self.error_total:
            counts[ERROR] = counts.get(ERROR, 0) + self.error_total
        return counts

    def add(self, other: "Tally") -> "Tally":
        merged = Tally(requests=self.requests + other.requests)
        for g in self.counts.keys() | other.counts.keys():
            merged.counts[g] = self.counts.get(g, Counter()) + other.counts.get(
                g, Counter()
            )
        for g in self.latencies.keys() | other.latencies.keys():
            mine, theirs = self.latencies.get(g, {}), other.latencies.get(g, {})
            merged.latencies[g] = {
                d: mine.get(d, []) + theirs.get(d, []) for d in mine.keys() | theirs
            }
        merged.unknown = self.unknown + other.unknown
        merged.errors = self.errors + other.errors
        merged.events = sorted(self.events + other.events)
        return merged

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answered": self.answered,
            "counts": {g: dict(sorted(c.items())) for g, c in self.counts.items()},
            "unknown_hostnames": dict(self.unknown.most_common(10)),
            "errors": dict(sorted(self.errors.items())),
            "error_total": self.error_total,
            "latency": {
                g: {d: latency.summary(v) for d, v in sorted(by_dest.items())}
                for g, by_dest in self.latencies.items()
            },
        }


def tally(sample: Sample, resolver: Resolver, by: str) -> Tally:
    """Resolve every answer of a sample to its locality and count it."""
    result = Tally(requests=sample.total)
    result.errors.update(sample.errors)
    if by not in GROUPINGS:
        result.counts[by] = Counter()
        result.latencies[by] = {}
    timed = len(sample.answer_times) == len(sample.answers)
    took = sample.answer_latencies
    if len(took) != len(sample.answers):
        took = []
    for i, hostname in enumerate(sample.answers):
        locality = resolver.resolve(hostname)
        if locality is None:
            result.unknown[hostname] += 1
        else:
            for g in result.counts:
                result.counts[g][locality.get(g)] += 1
                if took:
                    result.latencies[g].setdefault(locality.get(g), []).append(took[i])
        if timed:
            where = "unknown" if locality is None else locality.get(by)
            result.events.append((sample.answer_times[i], where))
    result.events.extend((at, f"error:{kind}") for at, kind in sample.error_times)
    result.events.sort()
    return result
