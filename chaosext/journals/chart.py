"""One drill as an inline SVG over real time (no script, no external resource).

x: seconds from the run's start. Top: the share of answers per destination, one
series per destination, batch by batch for waits and one segment per spot check.
Vertical markers: fault applied, repaired, rolled back (dashed: a dry run's plan);
a triangle where a wait converged. Shaded: each wait's transition, labelled with
its time (time to failover, time to recover); red when it never converged.
Beneath: client errors per measurement over the same axis.
"""

import math
from html import escape

from chaosext.journals.timeline import Batch, Marker, Span, Timeline

__all__ = ["PALETTE", "svg", "ticks"]

PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C6D31",
    "#000000",
)
SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 960
LEFT, RIGHT = 56, 176  # room for the y labels; for the legend
LANE, LANES = 14, 4  # label lanes above the plot
TOP = LANE * LANES + 8
PLOT = 190  # share plot height
GAP = 22
STRIP = 56  # errors strip height
HEIGHT = TOP + PLOT + GAP + STRIP + 44
CHAR = 6.3  # about one character of 11 px text
PRIORITY = {"fault": 0, "failed": 1, "window": 2, "repair": 3, "skipped": 4}
MARKER_TEXT = {
    "fault": "fault applied",
    "repair": "repaired",
    "rollback": "rolled back",
}


def ticks(span: float, target: int = 8) -> list[float]:
    """Round tick values (1, 2 or 5 x 10^k apart) from 0 to at least `span`."""
    span = max(span, 1e-3)
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(span / step - 1e-9)
    return [round(i * step, 6) for i in range(count + 1)]


class _Canvas:
    def __init__(self, duration: float) -> None:
        self.axis = ticks(duration)
        self.end = self.axis[-1]
        self.parts: list[str] = []
        self.lanes: list[list[tuple[float, float]]] = [[] for _ in range(LANES)]
        self.wanted: list[tuple[int, float, str, str, str]] = []

    def x(self, t: float) -> float:
        inner = WIDTH - LEFT - RIGHT
        return LEFT + inner * min(max(t, 0.0), self.end) / self.end

    @staticmethod
    def y(share: float) -> float:
        return TOP + PLOT * (1 - share)

    def add(self, text: str) -> None:
        self.parts.append(text)

    def label(self, x: float, text: str, cls: str, tip: str) -> None:
        """Ask for a label above the plot at `x` (placed by `place_labels`)."""
        self.wanted.append((PRIORITY.get(cls, len(PRIORITY)), x, text, cls, tip))

    def place_labels(self) -> None:
        """Most important first, each in the first lane where it overlaps nothing,
        right of its x or else left of it; one that fits nowhere is left out (the
        events table under the chart lists every marker and transition)."""
        for _, x, text, cls, tip in sorted(self.wanted, key=lambda w: w[:2]):
            width = CHAR * len(text) + 6
            spot = next(
                (
                    (lane, left)
                    for lane, taken in enumerate(self.lanes)
                    for left in (min(x, WIDTH - width), x - width)
                    if left >= 0
                    and all(left + width <= a or left >= b for a, b in taken)
                ),
                None,
            )
            if spot is None:
                continue
            lane, left = spot
            self.lanes[lane].append((left, left + width))
            y = TOP - 6 - LANE * lane
            self.add(
                f"<text class='label l-{cls}' x='{left + 3:.1f}' y='{y}'>"
                f"<title>{escape(tip)}</title>{escape(text)}</text>"
            )


def _axes(c: _Canvas) -> None:
    right, base = WIDTH - RIGHT, TOP + PLOT
    strip_top = base + GAP
    strip_base = strip_top + STRIP
    c.add("<g class='axis y'>")
    for share in (0, 0.25, 0.5, 0.75, 1):
        y = c.y(share)
        c.add(
            f"<line class='grid' x1='{LEFT}' y1='{y:.1f}' x2='{right}' y2='{y:.1f}'/>"
            f"<text x='{LEFT - 6}' y='{y + 4:.1f}' text-anchor='end'>"
            f"{int(share * 100)}%</text>"
        )
    c.add(
        f"<text x='{LEFT - 6}' y='{strip_top + 10}' text-anchor='end'>errors</text>"
        "</g><g class='axis x'>"
    )
    for t in c.axis:
        x = c.x(t)
        c.add(
            f"<line class='grid' x1='{x:.1f}' y1='{TOP}' x2='{x:.1f}' y2='{base}'/>"
            f"<line class='tickmark' x1='{x:.1f}' y1='{strip_base}' x2='{x:.1f}' "
            f"y2='{strip_base + 4}'/><text class='tick' x='{x:.1f}' "
            f"y='{strip_base + 16}' text-anchor='middle'>{t:g}</text>"
        )
    c.add(
        f"<line class='axisline' x1='{LEFT}' y1='{base}' x2='{right}' y2='{base}'/>"
        f"<line class='axisline' x1='{LEFT}' y1='{strip_base}' x2='{right}' "
        f"y2='{strip_base}'/><text x='{(LEFT + right) / 2:.0f}' "
        f"y='{strip_base + 34}' text-anchor='middle'>seconds from the run's start"
        "</text></g>"
    )


def _windows(c: _Canvas, tl: Timeline) -> None:
    for span in tl.spans:
        x0 = c.x(span.start)
        if span.skipped:
            c.add(
                f"<rect class='skipped' x='{x0:.1f}' y='{TOP}' "
                f"width='{max(c.x(span.end) - x0, 3):.1f}' height='{PLOT}'/>"
            )
            c.label(x0, "skipped (dry run)", "skipped", span.name)
        elif span.wait and span.converged_at is not None:
            x1 = c.x(span.converged_at)
            text = f"{tl.transition_label(span).split()[-1]} {span.transition:.2f} s"
            c.add(
                f"<rect class='window' data-label='{escape(text)}' x='{x0:.1f}' "
                f"y='{TOP}' width='{max(x1 - x0, 2):.1f}' height='{PLOT}'>"
                f"<title>{escape(span.name)}: {tl.transition_label(span)} "
                f"{span.transition:.3f} s, {span.transition_errors} client "
                f"error(s) during it</title></rect>"
            )
            c.label(x0, text, "window", f"{tl.transition_label(span)} ({span.name})")
        elif span.reason is not None:
            x1 = max(c.x(span.end), x0 + 2)
            what = "no convergence" if span.wait else "missed"
            c.add(
                f"<rect class='window failed' x='{x0:.1f}' y='{TOP}' "
                f"width='{x1 - x0:.1f}' height='{PLOT}'>"
                f"<title>{escape(span.name)}: {escape(span.reason)}</title></rect>"
            )
            c.label(x0, f"{what} ({span.verdict})", "failed", span.reason)


def _marker(c: _Canvas, marker: Marker) -> None:
    x = c.x(marker.t)
    text = MARKER_TEXT.get(marker.kind, marker.kind)
    if marker.planned:
        text = f"planned: {text}"
    if marker.failed:
        text += " (failed)"
    cls = f"marker {marker.kind}" + (" planned" if marker.planned else "")
    c.add(
        f"<line class='{cls}' data-t='{marker.t:.3f}' x1='{x:.1f}' y1='{TOP}' "
        f"x2='{x:.1f}' y2='{TOP + PLOT + GAP + STRIP}'>"
        f"<title>{escape(text)}: {escape(marker.name)} at {marker.t:.2f} s</title>"
        "</line>"
    )
    c.label(x, text, marker.kind, f"{marker.name} at {marker.t:.2f} s")


def _converged(c: _Canvas, span: Span) -> None:
    if span.converged_at is None:
        return
    x = c.x(span.converged_at)
    c.add(
        f"<path class='marker converged' data-t='{span.converged_at:.3f}' "
        f"d='M{x - 5:.1f},{TOP - 1} h10 l-5,8 z'><title>{escape(span.name)} "
        f"converged at {span.converged_at:.2f} s</title></path>"
    )


def _lines(c: _Canvas, span: Span, dest: str) -> list[str]:
    """Polylines through the batches' shares, broken where nothing answered."""
    out: list[str] = []
    run: list[str] = []
    for batch in [*span.batches, Batch(0.0, None, 0, False)]:
        counts = batch.counts or {}
        total = sum(counts.values())
        if total:
            run.append(f"{c.x(batch.t):.1f},{c.y(counts.get(dest, 0) / total):.1f}")
        elif run:
            out.append(f"<polyline points='{' '.join(run)}'/>")
            run = []
    return out


def _check(c: _Canvas, span: Span, dest: str) -> str:
    """A spot check: one segment over its duration, a dot at its middle."""
    total = sum(span.counts.values())
    if not total:
        return ""
    share = span.counts.get(dest, 0) / total
    x0, y = c.x(span.start), c.y(share)
    x1 = max(c.x(span.end), x0 + 3)
    return (
        f"<line class='check' x1='{x0:.1f}' y1='{y:.1f}' x2='{x1:.1f}' "
        f"y2='{y:.1f}'/><circle cx='{(x0 + x1) / 2:.1f}' cy='{y:.1f}' r='3.5'>"
        f"<title>{escape(span.name)}: {escape(dest)} {100 * share:.1f}% "
        f"({span.counts.get(dest, 0)}/{total})</title></circle>"
    )


def _series(c: _Canvas, tl: Timeline, key: tuple[str, str], color: str) -> str:
    by, dest = key
    out = [
        f"<g class='series' data-series='{escape(dest)}' data-dimension="
        f"'{escape(by)}' stroke='{color}' fill='{color}'>"
    ]
    for span in (s for s in tl.spans if s.by == by):
        out += _lines(c, span, dest) if span.batches else [_check(c, span, dest)]
    out.append("</g>")
    return "".join(out)


def _errors(c: _Canvas, tl: Timeline) -> None:
    base = TOP + PLOT + GAP + STRIP
    bars: list[tuple[float, float, int, str]] = []  # t0, t1, errors, tip
    for span in tl.spans:
        if span.batches:
            times = [b.t for b in span.batches] + [span.end]
            for batch, nxt in zip(span.batches, times[1:], strict=True):
                if batch.counts is None:
                    x = c.x(batch.t)
                    c.add(
                        f"<text class='no-answer' x='{x:.1f}' y='{base - STRIP + 9}' "
                        f"text-anchor='middle'>\u00d7<title>{batch.t:.2f} s: "
                        f"{escape(batch.note or 'no answer')}</title></text>"
                    )
                elif batch.errors:
                    bars.append((batch.t, nxt, batch.errors, span.name))
        elif span.errors:
            bars.append((span.start, span.end, span.errors, span.name))
    top = max((b[2] for b in bars), default=0)
    c.add(f"<g class='errors' data-max='{top}'>")
    if top:
        c.add(
            f"<text x='{LEFT - 6}' y='{base - STRIP + 22}' "
            f"text-anchor='end'>{top}</text>"
        )
    for t0, t1, errors, tip in bars:
        x0 = c.x(t0)
        h = (STRIP - 12) * errors / top
        c.add(
            f"<rect class='error-bar' x='{x0:.1f}' y='{base - h:.1f}' "
            f"width='{max(c.x(t1) - x0, 1.5):.1f}' height='{h:.1f}'>"
            f"<title>{escape(tip)}: {errors} failed request(s) at {t0:.2f} s</title>"
            "</rect>"
        )
    c.add("</g>")


def _legend(keys: list[tuple[str, str]]) -> str:
    dims = {by for by, _ in keys}
    out = []
    for i, (by, dest) in enumerate(keys):
        y, x = TOP + 8 + 18 * i, WIDTH - RIGHT + 16
        name = dest[:18] + (f" ({by})" if len(dims) > 1 else "")
        out.append(
            f"<rect x='{x}' y='{y - 8}' width='10' height='10' "
            f"fill='{PALETTE[i % len(PALETTE)]}'/>"
            f"<text x='{x + 15}' y='{y + 1}'>{escape(name)}</text>"
        )
    return "".join(out)


def svg(tl: Timeline, title: str) -> str:
    """The chart of one drill's timeline."""
    c = _Canvas(tl.duration)
    c.add(
        f"<svg xmlns='{SVG_NS}' class='timeline' role='img' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' "
        f"width='{WIDTH}' height='{HEIGHT}' data-seconds='{c.end:g}'>"
        f"<title>{escape(title)}: share of answers per destination over time</title>"
    )
    _axes(c)
    _windows(c, tl)
    keys = tl.destinations()
    for i, key in enumerate(keys):
        c.add(_series(c, tl, key, PALETTE[i % len(PALETTE)]))
    for span in tl.spans:
        _converged(c, span)
    for marker in tl.markers:
        _marker(c, marker)
    _errors(c, tl)
    c.add(_legend(keys))
    c.place_labels()
    c.add("</svg>")
    return "".join(c.parts)
