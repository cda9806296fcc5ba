"""Read what a drill found out of its journal: verdict, phases, per-cluster counts.

The verdict control writes `journal["meshdrill"]` (docs/journals.md); journals
without it (a plain Chaos Toolkit run, an older drill) fall back to the outputs:
every probe output holding a `counts` mapping becomes a phase named after the
probe, in journal order (steady state before, method, steady state after).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Phase:
    name: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # dim -> dest
    errors: dict[str, Any] = field(default_factory=dict)
    transition_seconds: float | None = None
    transition_errors: dict[str, Any] = field(default_factory=dict)
    start: str | None = None  # ISO time, known only for phases read from outputs
    finding: str | None = None  # what a phase found, in words (a reach probe's)

    def shares(self, dimension: str) -> dict[str, float]:
        counts = self.counts.get(dimension, {})
        total = sum(counts.values())
        return {k: (v / total if total else 0.0) for k, v in counts.items()}


def percent(count: int, total: int) -> str:
    """`50%`; one decimal near 0 and 100 so a small leak never reads as 0 or 100."""
    share = 100 * count / total if total else 0.0
    if 0 < share < 1 or 99 < share < 100:
        return f"{share:.1f}%"
    return f"{share:.0f}%"


def int_counts(value: object) -> dict[str, int] | None:
    if not isinstance(value, Mapping) or not value:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
        return {str(k): int(v) for k, v in value.items()}
    return None


def dimension_counts(value: object) -> dict[str, dict[str, int]]:
    """`{"cluster": {...}, "zone": {...}}` as is; a flat `{dest: n}` as "cluster"."""
    flat = int_counts(value)
    if flat is not None:
        return {"cluster": flat}
    if not isinstance(value, Mapping):
        return {}
    out = {}
    for dimension, inner in value.items():
        counts = int_counts(inner)
        if counts is not None:
            out[str(dimension)] = counts
    return out


def _from_meshdrill(raw: list[Any]) -> list[Phase]:
    found: list[Phase] = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        seconds = item.get("transition_seconds")
        errors = item.get("errors")
        transition = item.get("transition_errors")
        found.append(
            Phase(
                name=str(item.get("name", f"phase {len(found) + 1}")),
                counts=dimension_counts(item.get("counts")),
                errors=dict(errors) if isinstance(errors, Mapping) else {},
                transition_errors=dict(transition)
                if isinstance(transition, Mapping)
                else {},
                transition_seconds=float(seconds)
                if isinstance(seconds, int | float) and not isinstance(seconds, bool)
                else None,
                finding=str(item["finding"]) if item.get("finding") else None,
            )
        )
    return found


def _runs(journal: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    runs: list[Mapping[str, Any]] = []
    steady = journal.get("steady_states") or {}
    before, after = steady.get("before"), steady.get("after")
    if isinstance(before, Mapping):
        runs.extend(before.get("probes") or [])
    runs.extend(journal.get("run") or [])
    if isinstance(after, Mapping):
        runs.extend(after.get("probes") or [])
    return [r for r in runs if isinstance(r, Mapping)]


def _from_outputs(journal: Mapping[str, Any]) -> list[Phase]:
    found: list[Phase] = []
    for run in _runs(journal):
        output = run.get("output")
        if not isinstance(output, Mapping) or "counts" not in output:
            continue
        counts = dimension_counts(output["counts"])
        if not counts:
            continue
        errors = output.get("errors")
        seconds = output.get("transition_seconds")
        activity = run.get("activity") or {}
        found.append(
            Phase(
                name=str(activity.get("name", f"probe {len(found) + 1}")),
                counts=counts,
                errors=dict(errors)
                if isinstance(errors, Mapping)
                else ({"errors": errors} if isinstance(errors, int) else {}),
                transition_seconds=float(seconds)
                if isinstance(seconds, int | float) and not isinstance(seconds, bool)
                else None,
                start=run.get("start") if isinstance(run.get("start"), str) else None,
            )
        )
    return found


def phases(journal: Mapping[str, Any]) -> list[Phase]:
    """The drill's phases, from the verdict control's record or from outputs."""
    meshdrill = journal.get("meshdrill")
    if isinstance(meshdrill, Mapping) and isinstance(meshdrill.get("phases"), list):
        found = _from_meshdrill(meshdrill["phases"])
        if found:
            return found
    return _from_outputs(journal)


def chart_dimension(found: list[Phase]) -> str | None:
    """The dimension to chart: the coarsest one in which the traffic moved.

    Cluster, then region, then zone, then pod: a zone drill keeps every answer in
    one cluster, so its chart is by zone; a drill where nothing moved is by cluster.
    """
    present = {d for phase in found for d in phase.counts}
    for dimension in COARSE_TO_FINE:
        if dimension in present and len(destinations(found, dimension)) > 1:
            return dimension
    if "cluster" in present:
        return "cluster"
    return sorted(present)[0] if present else None


COARSE_TO_FINE = ("cluster", "region", "zone", "pod")


def destinations(found: list[Phase], dimension: str) -> list[str]:
    names: dict[str, None] = {}
    for phase in found:
        names.update(dict.fromkeys(phase.counts.get(dimension, {})))
    return sorted(names)


def verdict(journal: Mapping[str, Any]) -> tuple[str, str]:
    """(verdict, source): the verdict control's if present, else derived.

    Derived: "failed" if the run did not complete, deviated, a steady-state check
    missed its tolerance or a method activity failed; "passed" otherwise.
    """
    meshdrill = journal.get("meshdrill")
    if isinstance(meshdrill, Mapping) and isinstance(meshdrill.get("verdict"), str):
        return meshdrill["verdict"], "meshdrill"
    steady = journal.get("steady_states") or {}
    checks = [steady.get("before"), steady.get("after")]
    missed = any(
        isinstance(c, Mapping) and c.get("steady_state_met") is False for c in checks
    )
    failed_runs = any(
        isinstance(r, Mapping) and r.get("status") == "failed"
        for r in journal.get("run") or []
    )
    ok = (
        journal.get("status") == "completed"
        and not journal.get("deviated")
        and not missed
        and not failed_runs
    )
    return ("passed" if ok else "failed"), "derived"


def reasons(journal: Mapping[str, Any]) -> list[str]:
    meshdrill = journal.get("meshdrill")
    if isinstance(meshdrill, Mapping) and isinstance(meshdrill.get("reasons"), list):
        return [str(r) for r in meshdrill["reasons"]]
    return []


def contexts(journal: Mapping[str, Any]) -> dict[str, str]:
    meshdrill = journal.get("meshdrill")
    if isinstance(meshdrill, Mapping) and isinstance(
        meshdrill.get("contexts"), Mapping
    ):
        return {str(k): str(v) for k, v in meshdrill["contexts"].items()}
    return {}
