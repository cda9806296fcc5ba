"""What-if predictions: every endpoint of a host with its priority and share, for
one choosing proxy, now and with endpoints down (`--down`) or ejected (`--eject`).

One computation for `meshdrill lab explain` (a topology file or the running lab)
and `meshdrill mesh explain` (any cluster, through its API): both gather a
`Proxy`, a `ServiceConfig` and the endpoints, then call `split()`; `as_json()` is
the `--json`/`-o json` shape both print.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaosext.mesh.cla import assignment
from chaosext.mesh.shares import pod_shares
from chaosext.mesh.types import Assignment, Endpoint, Proxy, ServiceConfig

SELECTOR_KEYS = ("cluster", "region", "zone")
LABEL_PREFIX = "label:"


class PredictionError(ValueError):
    """A question explain cannot answer (unknown client, host, selector)."""


@dataclass(frozen=True)
class Selector:
    """`--down`/`--eject` SEL: a pod name, `cluster=`, `region=`, `zone=`, or
    `label:KEY=VALUE` (a pod label)."""

    key: str  # "pod", "cluster", "region", "zone" or "label"
    value: str

    @classmethod
    def parse(cls, text: str) -> "Selector":
        if text.startswith(LABEL_PREFIX):
            label = text.removeprefix(LABEL_PREFIX)
            name, sep, value = label.partition("=")
            if not sep or not name:
                raise PredictionError(f"selector {text!r}: use label:KEY=VALUE")
            return cls("label", label)
        key, sep, value = text.partition("=")
        if not sep:
            return cls("pod", text)
        if key not in SELECTOR_KEYS or not value:
            raise PredictionError(
                f"selector {text!r}: use a pod name or cluster=, region=, zone=, "
                "label:KEY=VALUE"
            )
        return cls(key, value)

    def matches(self, endpoint: Endpoint) -> bool:
        if self.key == "label":
            name, _, value = self.value.partition("=")
            return endpoint.labels.get(name) == value
        value = {
            "pod": endpoint.name,
            "cluster": endpoint.cluster,
            "region": endpoint.locality.region,
            "zone": endpoint.locality.zone,
        }[self.key]
        return value == self.value

    def __str__(self) -> str:
        if self.key == "pod":
            return self.value
        if self.key == "label":
            return LABEL_PREFIX + self.value
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Row:
    """One endpoint: where it is, its priority (None: never used) and its share."""

    pod: str
    cluster: str
    region: str
    zone: str
    priority: int | None
    share: float


@dataclass(frozen=True)
class Prediction:
    """Where `chooser`'s requests for `host` go. `possible` is False when the asked
    state cannot happen (more ejections than maxEjectionPercent allows)."""

    host: str
    chooser: Proxy
    via: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...]
    possible: bool = field(default=True)

    def by(self, key: str) -> dict[str, float]:
        """Shares summed per `pod`, `cluster`, `region` or `zone`."""
        out: dict[str, float] = {}
        for row in self.rows:
            name = str(getattr(row, key))
            out[name] = out.get(name, 0.0) + row.share
        return out


def check_selectors(
    selectors: Iterable[Selector], endpoints: Sequence[Endpoint], host: str
) -> None:
    """PredictionError naming a selector that matches no endpoint, and the pods."""
    for sel in selectors:
        if not any(sel.matches(e) for e in endpoints):
            raise PredictionError(
                f"selector {sel} matches no endpoint of {host} "
                f"(pods: {', '.join(e.name for e in endpoints) or 'none'})"
            )


def ejection_limit(assigned: Assignment) -> int | None:
    """How many hosts Envoy may eject at once for this assignment, or None when it
    never ejects (ztunnel, or no outlier detection). `ejectHost` ejects only while
    100 x (ejected + 1) / N <= maxEjectionPercent, N = every host of the cluster."""
    if assigned.mode != "envoy" or assigned.outlier is None:
        return None
    hosts = len(assigned.endpoints())
    percent = assigned.outlier.max_ejection_percent
    return sum(1 for k in range(1, hosts + 1) if 100 * k / hosts <= percent + 1e-9)


def _ejection_notes(assigned: Assignment, ejected: set[str]) -> tuple[list[str], bool]:
    if not ejected:
        return [], True
    notes = [f"ejected: {n}" for n in sorted(ejected)]
    if assigned.mode == "ztunnel":
        return [
            *notes,
            "ztunnel has no outlier detection: --eject changes nothing",
        ], True
    limit = ejection_limit(assigned)
    if limit is None:
        return [
            *notes,
            "cannot happen: no outlier detection (the DestinationRule has no "
            "outlierDetection), so Envoy never ejects a host",
        ], False
    if len(ejected) > limit:
        assert assigned.outlier is not None
        hosts = len(assigned.endpoints())
        return [
            *notes,
            f"cannot happen: maxEjectionPercent "
            f"{assigned.outlier.max_ejection_percent:g}% of {hosts} hosts allows "
            f"at most {limit} ejected at once, not {len(ejected)}",
        ], False
    return notes, True


def split(
    proxy: Proxy,
    config: ServiceConfig,
    endpoints: Sequence[Endpoint],
    *,
    via: str,
    down: Iterable[Selector] = (),
    eject: Iterable[Selector] = (),
    l4_only: bool = False,
) -> Prediction:
    """Every endpoint of `config.host` with its priority and share, seen from
    `proxy`, with `down` endpoints removed (scaled away, deleted) and `eject`
    endpoints ejected by outlier detection (Envoy only). A pod on another network
    reached through an east-west gateway is ejected with its gateway endpoint
    (every pod behind it), and gets that endpoint's priority."""
    down, eject = list(down), list(eject)
    check_selectors([*down, *eject], endpoints, config.host)
    kept = [e for e in endpoints if not any(s.matches(e) for s in down)]
    assigned = assignment(proxy, config, kept)
    ejected = {
        e.name
        for e in assigned.endpoints()
        if any(s.matches(pod) for s in eject for pod in (e, *e.behind))
    }
    shares = pod_shares(assigned, ejected)
    priority: dict[str, int] = {}
    for group in assigned.groups:
        for e in group.endpoints:
            for pod in (e, *e.behind):
                priority[pod.name] = min(priority.get(pod.name, 99), group.priority)
    rows = sorted(
        (
            Row(
                e.name,
                e.cluster,
                e.locality.region,
                e.locality.zone,
                priority.get(e.name),
                shares.get(e.name, 0.0),
            )
            for e in kept
        ),
        key=lambda r: (r.priority is None, r.priority or 0, r.cluster, r.zone, r.pod),
    )
    notes = [f"setting: {assigned.setting_source}", *assigned.notes]
    if l4_only:
        notes.append("ztunnel (L4): only the best-ranked endpoints, no spill")
    more, possible = _ejection_notes(assigned, ejected)
    notes += more
    if not shares:
        notes.append("every request fails: no healthy upstream")
    return Prediction(config.host, proxy, via, tuple(rows), tuple(notes), possible)


def as_json(prediction: Prediction) -> dict[str, Any]:
    """`{"endpoints": [{"pod", "cluster", "region", "zone", "priority", "share"}]}`
    plus the host, the chooser, the notes and whether the state can happen."""
    proxy = prediction.chooser
    return {
        "host": prediction.host,
        "via": prediction.via,
        "proxy": {
            "kind": proxy.kind,
            "name": proxy.name,
            "cluster": proxy.cluster,
            "region": proxy.locality.region,
            "zone": proxy.locality.zone,
        },
        "possible": prediction.possible,
        "notes": list(prediction.notes),
        "endpoints": [
            {
                "pod": row.pod,
                "cluster": row.cluster,
                "region": row.region,
                "zone": row.zone,
                "priority": row.priority,
                "share": round(row.share, 6),
            }
            for row in prediction.rows
        ],
    }
