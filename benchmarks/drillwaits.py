"""What a drill waits for that is not the drill's own cost, from its journal and
the lab's record (`routing.jsonl`, see chaosext.lab.groundtruth).

`Waits.of(journal, records)` gives the spans of wall time (Unix seconds) that
`fig_drills` puts in the denominator of `drill_overhead_ratio`:

- lab waits, whole seconds each:
  - `transitions`: each wait's `started_at` to `started_at + transition_seconds`
    (propagation, `terminate_after`, ejections, returning pods' readiness),
    wherever a wait reports it (`wait_for_split`, and waits inside actions);
  - `pods`: while an action, or a probe that only waits for pods to come or go
    (`POD_WAITS`), ran, a pod the lab had been asked to start or stop was not
    there yet / not gone yet: each record's `[since, at]` (`pod` lines that start
    answering, `ready` and `gone` lines of any pod, istiod's too), clipped to
    those activities' spans;
- `delays`: requests a pod's fault delayed while a probe sampled (`delayed`
  lines), each over its `[since, at]` with weight 1/c, c the sampling probe's
  concurrency (`probes.source.concurrency`: 8 for a URL source, 1 for an exec'd
  curl). A sampler with c requests in flight loses the share of its capacity
  that the lab holds; integrated, n delayed answers of d seconds count n*d/c,
  which is what any sampler at that concurrency must wait for them (it can hold
  at most c at a time), and no more;
- `declared`: waits the experiment declares, not tool overhead: a converged
  `wait_for_split`'s `hold` (its final streak's first batch's start, for `hold`
  seconds) and Chaos Toolkit `pauses` (`before` each activity's start, `after`
  its end).

`covered()` counts them once where they overlap: a moment covered by a whole
span counts whole; otherwise it counts the delays' weight there, at most 1.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from probes.source import concurrency

Span = tuple[float, float]
Weighted = tuple[float, float, float]  # start, end, weight

# Probes that only wait for the lab to start or stop a Deployment's pods
POD_WAITS = {
    ("probes.deployments", "deployment_ready"),
    ("probes.deployments", "deployment_stopped"),
}


def utc(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def activities(journal: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every activity the run ran: steady-state probes, method, rollbacks."""
    states = journal.get("steady_states") or {}
    probes: list[dict[str, Any]] = []
    for when in ("before", "after", "during"):
        phases = states.get(when)
        for phase in phases if isinstance(phases, list) else [phases]:
            if isinstance(phase, dict):
                probes += phase.get("probes") or []
    return [*probes, *journal.get("run", []), *journal.get("rollbacks", [])]


def configured(value: Any, configuration: Mapping[str, Any]) -> Any:
    """An argument as the run used it: a whole `${key}` is the configuration's."""
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        found = configuration.get(value[2:-1], value)
        return found.get("default", value) if isinstance(found, dict) else found
    if isinstance(value, dict):
        return {k: configured(v, configuration) for k, v in value.items()}
    return value


def _span(item: Mapping[str, Any]) -> Span | None:
    if item.get("start") and item.get("end"):
        return utc(item["start"]), utc(item["end"])
    return None


def transition_spans(journal: Mapping[str, Any]) -> list[Span]:
    """(started_at, started_at + transition_seconds) of every wait in the run's
    outputs: `wait_for_split` probes, and waits an action reports inside its own
    output (conformance's per-locality failover and recovery)."""
    spans: list[Span] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            took, since = value.get("transition_seconds"), value.get("started_at")
            if isinstance(took, int | float) and isinstance(since, int | float):
                spans.append((float(since), float(since) + float(took)))
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for item in journal.get("run", []):
        walk(item.get("output"))
    return spans


def pod_wait_spans(journal: Mapping[str, Any]) -> list[Span]:
    """(start, end) of every action the run and its rollbacks ran, and of every
    probe that only waits for pods to come or go (POD_WAITS)."""

    def waits_on_pods(activity: Mapping[str, Any]) -> bool:
        if activity.get("type") == "action":
            return True
        provider = activity.get("provider") or {}
        return (provider.get("module"), provider.get("func")) in POD_WAITS

    return [
        span
        for item in [*journal.get("run", []), *journal.get("rollbacks", [])]
        if waits_on_pods(item.get("activity") or {})
        and (span := _span(item)) is not None
    ]


def _pod_records(records: Iterable[Mapping[str, Any]]) -> Iterator[Span]:
    for r in records:
        if "since" not in r:
            continue
        if r["type"] in ("ready", "gone") or (r["type"] == "pod" and r["answering"]):
            yield float(r["since"]), float(r["at"])


def pod_spans(
    journal: Mapping[str, Any], records: Iterable[Mapping[str, Any]]
) -> list[Span]:
    """The spans, inside actions and POD_WAITS probes, when a pod the lab was
    asked to start was not Ready/answering yet, or one it was asked to stop was
    not gone yet (scheduling, `ready_after`, `terminate_after`)."""
    lab = list(_pod_records(records))
    return [
        (max(a, lo), min(b, hi))
        for a, b in pod_wait_spans(journal)
        for lo, hi in lab
        if min(b, hi) > max(a, lo)
    ]


def _samplers(
    journal: Mapping[str, Any], configuration: Mapping[str, Any]
) -> list[tuple[float, float, int]]:
    """(start, end, concurrency) of every activity that samples (has a source)."""
    found = []
    for item in activities(journal):
        arguments = ((item.get("activity") or {}).get("provider") or {}).get(
            "arguments"
        ) or {}
        source = configured(arguments.get("source"), configuration)
        span = _span(item)
        if isinstance(source, dict) and span is not None:
            found.append((*span, max(1, int(concurrency(source)))))
    return found


def delay_spans(
    journal: Mapping[str, Any], records: Iterable[Mapping[str, Any]]
) -> list[Weighted]:
    """Each delayed request inside a sampling activity, weighted 1/concurrency."""
    configuration = (journal.get("experiment") or {}).get("configuration") or {}
    samplers = _samplers(journal, configuration)
    out = []
    for r in records:
        if r["type"] != "delayed":
            continue
        lo, hi = float(r["since"]), float(r["at"])
        for start, end, c in samplers:
            if start <= lo <= end:
                out.append((lo, min(hi, end), 1.0 / c))
                break
    return out


def _hold(item: Mapping[str, Any], configuration: Mapping[str, Any]) -> Span | None:
    output = item.get("output")
    if not isinstance(output, dict) or not output.get("converged"):
        return None
    arguments = ((item.get("activity") or {}).get("provider") or {}).get(
        "arguments"
    ) or {}
    hold = float(configured(arguments.get("hold"), configuration) or 0.0)
    batches = output.get("batches") or []
    first = len(batches)
    while first > 0 and batches[first - 1].get("passed"):
        first -= 1
    if hold <= 0 or first == len(batches):
        return None
    begins = float(output["started_at"]) + float(batches[first]["t"])
    return begins, begins + hold


def declared_spans(journal: Mapping[str, Any]) -> list[Span]:
    """Holds of converged waits, and Chaos Toolkit pauses."""
    configuration = (journal.get("experiment") or {}).get("configuration") or {}
    spans = []
    for item in activities(journal):
        held = _hold(item, configuration)
        if held is not None:
            spans.append(held)
        pauses = configured((item.get("activity") or {}).get("pauses"), configuration)
        span = _span(item)
        if isinstance(pauses, dict) and span is not None:
            before, after = pauses.get("before"), pauses.get("after")
            if isinstance(before, int | float) and before > 0:
                spans.append((span[0] - float(before), span[0]))
            if isinstance(after, int | float) and after > 0:
                spans.append((span[1], span[1] + float(after)))
    return spans


def union(spans: Iterable[Span]) -> float:
    """Seconds covered by `spans`, overlaps counted once."""
    return covered(spans, [])


def covered(whole: Iterable[Span], weighted: Iterable[Weighted]) -> float:
    """Seconds covered: a moment inside a whole span counts 1, else the sum of
    the weighted spans' weights there, at most 1."""
    events: list[tuple[float, int, float]] = []  # time, whole +-1, weight +-w
    for lo, hi in whole:
        if hi > lo:
            events += [(lo, 1, 0.0), (hi, -1, 0.0)]
    for lo, hi, w in weighted:
        if hi > lo:
            events += [(lo, 0, w), (hi, 0, -w)]
    events.sort()
    total, depth, weight, last = 0.0, 0, 0.0, None
    for at, step, w in events:
        if last is not None and at > last:
            total += (at - last) * (1.0 if depth > 0 else min(1.0, max(0.0, weight)))
        depth += step
        weight += w
        last = at
    return total


@dataclass
class Waits:
    """A run's waits, by kind, and all of them counted once."""

    transitions: list[Span] = field(default_factory=list)
    pods: list[Span] = field(default_factory=list)
    delays: list[Weighted] = field(default_factory=list)
    declared: list[Span] = field(default_factory=list)

    @classmethod
    def of(
        cls, journal: Mapping[str, Any], records: Iterable[Mapping[str, Any]]
    ) -> "Waits":
        records = list(records)
        return cls(
            transition_spans(journal),
            pod_spans(journal, records),
            delay_spans(journal, records),
            declared_spans(journal),
        )

    @property
    def lab(self) -> float:
        """What the lab imposes (transitions, pods, delays), overlaps once."""
        return covered([*self.transitions, *self.pods], self.delays)

    @property
    def total(self) -> float:
        """Lab waits and declared waits, overlaps once."""
        return covered([*self.transitions, *self.pods, *self.declared], self.delays)
