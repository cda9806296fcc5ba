"""Count sampled answers by where they came from: cluster, region, zone, pod..."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chaosext.locality import LocalityResolver
from probes.sampling import Sample

__all__ = ["GROUPINGS", "Tally", "tally"]

GROUPINGS = ("cluster", "region", "zone", "pod")
"""The groupings every report carries, whatever the split is judged by."""


@dataclass
class Tally:
    """Answers counted per grouping; errors and unknown hostnames kept apart."""

    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {g: Counter() for g in GROUPINGS}
    )
    unknown: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    @property
    def answered(self) -> int:
        return sum(self.counts["pod"].values()) + sum(self.unknown.values())

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def by(self, dimension: str) -> dict[str, int]:
        """Counts for one grouping; unknown hostnames count as "unknown"."""
        counts = dict(self.counts.get(dimension, Counter()))
        if self.unknown:
            counts["unknown"] = counts.get("unknown", 0) + sum(self.unknown.values())
        return counts

    def add(self, other: "Tally") -> "Tally":
        merged = Tally(requests=self.requests + other.requests)
        for g in self.counts.keys() | other.counts.keys():
            merged.counts[g] = self.counts.get(g, Counter()) + other.counts.get(
                g, Counter()
            )
        merged.unknown = self.unknown + other.unknown
        merged.errors = self.errors + other.errors
        return merged

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answered": self.answered,
            "counts": {g: dict(sorted(c.items())) for g, c in self.counts.items()},
            "unknown_hostnames": dict(self.unknown.most_common(10)),
            "errors": dict(sorted(self.errors.items())),
            "error_total": self.error_total,
        }


def tally(sample: Sample, resolver: LocalityResolver, by: str) -> Tally:
    """Resolve every answer of a sample to its locality and count it."""
    result = Tally(requests=sample.total)
    result.errors.update(sample.errors)
    if by not in GROUPINGS:
        result.counts[by] = Counter()
    for hostname in sample.answers:
        locality = resolver.resolve(hostname)
        if locality is None:
            result.unknown[hostname] += 1
            continue
        for g in result.counts:
            result.counts[g][locality.get(g)] += 1
    return result
