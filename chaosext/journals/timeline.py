"""A drill over real time, from its journal: what was measured when, and what was done.

Every activity run in a Chaos Toolkit journal has its start and end; meshdrill's
probes add `started_at` and, for waits (`wait_for_split`), every batch with its
offset `t` from the probe's start. This module turns them into seconds from the
run's start (`journal["start"]`), for the HTML chart:

- a `Span` per measured probe: a spot check (one measurement over its duration)
  or a wait (its batches, its transition and whether it converged);
- a `Marker` per action: the method's first action is the fault, later ones the
  repairs, rollbacks after them; in a dry run they are plans, not changes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chaosext.journals import phases

__all__ = ["Batch", "Marker", "Span", "Timeline", "timeline"]


@dataclass
class Batch:
    t: float  # seconds from the run's start
    counts: dict[str, int] | None  # None: nothing (known) answered
    errors: int
    passed: bool
    note: str | None = None


@dataclass
class Span:
    name: str  # "before: x", "method: x", "after: x"
    by: str
    start: float
    end: float
    verdict: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    batches: list[Batch] = field(default_factory=list)
    wait: bool = False
    transition: float | None = None  # seconds from `start` to the settled run
    transition_errors: int = 0
    reason: str | None = None

    @property
    def skipped(self) -> bool:
        return self.verdict == "skipped"

    @property
    def converged_at(self) -> float | None:
        return None if self.transition is None else self.start + self.transition


@dataclass
class Marker:
    t: float
    kind: str  # fault, repair, rollback
    name: str
    failed: bool = False
    planned: bool = False  # a dry run's action: nothing was changed


@dataclass
class Timeline:
    duration: float
    spans: list[Span]
    markers: list[Marker]

    @property
    def waits(self) -> list[Span]:
        return [s for s in self.spans if s.wait and not s.skipped]

    def destinations(self) -> list[tuple[str, str]]:
        """(dimension, destination) of every series, in first-seen order by name."""
        seen: dict[tuple[str, str], None] = {}
        for span in self.spans:
            seen.update(dict.fromkeys((span.by, d) for d in span.counts))
            for batch in span.batches:
                seen.update(dict.fromkeys((span.by, d) for d in batch.counts or {}))
        return sorted(seen, key=lambda key: (key[1], key[0]))

    def transition_label(self, span: Span) -> str:
        """`time to failover` for the first wait, `time to recover` for the last."""
        waits = self.waits
        if span is waits[0]:
            return "time to failover"
        if span is waits[-1]:
            return "time to recover"
        return "transition"


def _epoch(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _error_total(output: Mapping[str, Any]) -> int:
    total = output.get("error_total")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    errors = output.get("errors")
    if isinstance(errors, Mapping):
        return sum(v for v in errors.values() if isinstance(v, int))
    return errors if isinstance(errors, int) and not isinstance(errors, bool) else 0


def _counts(output: Mapping[str, Any], by: str) -> dict[str, int]:
    return phases.dimension_counts(output.get("counts")).get(by) or {}


def _batches(raw: object, start: float) -> list[Batch]:
    out = []
    for point in raw if isinstance(raw, list) else []:
        t = _number(point.get("t")) if isinstance(point, Mapping) else None
        if t is None:
            continue
        counts = phases.int_counts(point.get("counts"))
        errors = point.get("errors")
        out.append(
            Batch(
                t=start + t,
                counts=counts,
                errors=errors if isinstance(errors, int) else 0,
                passed=point.get("passed") is True,
                note=str(point["note"]) if point.get("note") else None,
            )
        )
    return out


def _span(label: str, run: Mapping[str, Any], t0: float) -> Span | None:
    output = run.get("output")
    if not isinstance(output, Mapping) or not ("probe" in output or "counts" in output):
        return None
    start = _epoch(output.get("started_at")) or _epoch(run.get("start")) or t0
    duration = _number(output.get("duration")) or _number(run.get("duration")) or 0.0
    by = str(output.get("by") or "")
    if not by:  # a probe that does not say: its coarsest dimension that moved
        found = [phases.Phase("", phases.dimension_counts(output.get("counts")))]
        by = phases.chart_dimension(found) or "cluster"
    reasons = output.get("reasons")
    failed = run.get("status") == "failed" or output.get("passed") is False
    verdict = str(output.get("verdict") or ("failed" if failed else "?"))
    reason = None
    if failed:
        reason = "; ".join(str(r) for r in reasons) if reasons else verdict
    name = f"{label}: {(run.get('activity') or {}).get('name', '?')}"
    return Span(
        name=name,
        by=by,
        start=start - t0,
        end=start - t0 + duration,
        verdict=verdict,
        counts=_counts(output, by),
        errors=_error_total(output),
        batches=_batches(output.get("batches"), start - t0),
        wait=output.get("probe") == "wait_for_split",
        transition=_number(output.get("transition_seconds")),
        transition_errors=int(_number(output.get("transition_error_total")) or 0),
        reason=reason,
    )


def _labelled_runs(journal: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    steady = journal.get("steady_states") or {}
    out: list[tuple[str, Mapping[str, Any]]] = []
    for label, runs in (
        ("before", (steady.get("before") or {}).get("probes")),
        ("method", journal.get("run")),
        ("after", (steady.get("after") or {}).get("probes")),
        ("rollback", journal.get("rollbacks")),
    ):
        out.extend((label, r) for r in runs or [] if isinstance(r, Mapping))
    return out


def timeline(journal: Mapping[str, Any]) -> Timeline:
    """The drill's spans and markers, in seconds from `journal["start"]`."""
    runs = _labelled_runs(journal)
    starts = [t for _, r in runs if (t := _epoch(r.get("start"))) is not None]
    t0 = _epoch(journal.get("start")) or min(starts, default=0.0)
    meshdrill = journal.get("meshdrill")
    dry = bool(isinstance(meshdrill, Mapping) and meshdrill.get("dry_run"))
    spans: list[Span] = []
    markers: list[Marker] = []
    for label, run in runs:
        activity = run.get("activity") or {}
        if activity.get("type") == "action":
            start = _epoch(run.get("start"))
            if start is None:
                continue
            if label == "rollback":
                kind = "rollback"
            else:
                kind = "repair" if any(m.kind == "fault" for m in markers) else "fault"
            markers.append(
                Marker(
                    start - t0,
                    kind,
                    str(activity.get("name", "?")),
                    failed=run.get("status") == "failed",
                    planned=dry,
                )
            )
            continue
        span = _span(label, run, t0)
        if span is not None:
            spans.append(span)
    ends = [s.end for s in spans] + [m.t for m in markers]
    duration = _number(journal.get("duration")) or 0.0
    return Timeline(max([duration, *ends], default=0.0), spans, markers)
