"""One self-contained HTML page for the archive: verdicts and split charts.

Inline CSS, inline SVG drawn here, no script, and a Content-Security-Policy
that forbids loading anything, so the page opens the same with no network.
Each drill gets a line chart: x = its phases in order, y = the share of
traffic per cluster (one series per cluster), from the phase counts.
"""

from collections.abc import Sequence
from html import escape
from typing import Any

from chaosext.journals import phases, provenance, report, verify

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
WIDTH, HEIGHT = 860, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 16, 76
STAGGER = 4  # more phases than this: labels alternate between two rows

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;
color:#1b1f24;max-width:1100px}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:0}
.meta{color:#57606a}table{border-collapse:collapse;margin:.6em 0}
th,td{border-bottom:1px solid #d8dee4;padding:.25em .7em;text-align:left;
vertical-align:top}th{background:#f6f8fa}
.passed{color:#116329;font-weight:600}.failed{color:#b3261e;font-weight:600}
.badge{border-radius:1em;padding:.1em .7em;border:1px solid currentColor}
section.drill{border:1px solid #d8dee4;border-radius:8px;padding:1em 1.2em;
margin:1.2em 0}.ok{color:#116329}.bad{color:#b3261e}
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
svg .grid{stroke:#d8dee4}svg .axis{stroke:#57606a}
code{font-size:.9em}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'"


PAD = 40  # room for the first and last phase labels


def _x_positions(count: int) -> list[float]:
    inner = WIDTH - LEFT - RIGHT - 2 * PAD
    if count == 1:
        return [LEFT + PAD + inner / 2]
    return [LEFT + PAD + inner * i / (count - 1) for i in range(count)]


def _label(name: str, count: int) -> str:
    """A phase name cut to the room it has under the x axis (about 7 px a char)."""
    room = (WIDTH - LEFT - RIGHT) / max(count, 1)
    if count > STAGGER:
        room *= 2
    limit = max(6, int((room - 10) / 7))
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


def _y(share: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def chart(found: list[phases.Phase], label: str) -> str:
    """An inline SVG line chart of shares per destination across the phases."""
    dimension = phases.chart_dimension(found)
    if dimension is None:
        return "<p class='meta'>No traffic counts recorded for this drill.</p>"
    names = phases.destinations(found, dimension)
    xs = _x_positions(len(found))
    out = [
        f"<svg class='split' role='img' width='{WIDTH}' height='{HEIGHT}' "
        f"viewBox='0 0 {WIDTH} {HEIGHT}' data-dimension='{escape(dimension)}'>",
        f"<title>{escape(label)}: share of traffic per {escape(dimension)}</title>",
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = _y(tick)
        out.append(
            f"<line class='grid' x1='{LEFT}' y1='{y:.1f}' "
            f"x2='{WIDTH - RIGHT}' y2='{y:.1f}'/>"
            f"<text x='{LEFT - 6}' y='{y + 4:.1f}' text-anchor='end'>"
            f"{int(tick * 100)}%</text>"
        )
    base = HEIGHT - BOTTOM
    for i, (x, phase) in enumerate(zip(xs, found, strict=True)):
        row = 30 * (i % 2) if len(found) > STAGGER else 0
        out.append(
            f"<line class='axis' x1='{x:.1f}' y1='{base}' "
            f"x2='{x:.1f}' y2='{base + 4 + row}'/>"
            f"<text x='{x:.1f}' y='{base + 17 + row}' text-anchor='middle'>"
            f"<title>{escape(phase.name)}</title>"
            f"{escape(_label(phase.name, len(found)))}</text>"
        )
        if phase.transition_seconds is not None:
            out.append(
                f"<text x='{x:.1f}' y='{base + 30 + row}' text-anchor='middle'>"
                f"t={phase.transition_seconds:.1f} s</text>"
            )
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        points, dots = [], []
        for x, phase in zip(xs, found, strict=True):
            counts = phase.counts.get(dimension)
            if not counts or not sum(counts.values()):
                continue  # nothing counted for this dimension: no point
            share = phase.shares(dimension).get(name, 0.0)
            points.append(f"{x:.1f},{_y(share):.1f}")
            dots.append(
                f"<circle cx='{x:.1f}' cy='{_y(share):.1f}' r='3.5' fill='{color}'>"
                f"<title>{escape(phase.name)}: {escape(name)} {100 * share:.1f}% "
                f"({counts.get(name, 0)}/{sum(counts.values())})</title></circle>"
            )
        out.append(
            f"<polyline class='series' data-series='{escape(name)}' "
            f"fill='none' stroke='{color}' stroke-width='2.5' "
            f"points='{' '.join(points)}'/>"
        )
        out.extend(dots)
        ly = TOP + 8 + 18 * i
        lx = WIDTH - RIGHT + 16
        out.append(
            f"<rect x='{lx}' y='{ly - 8}' width='10' height='10' fill='{color}'/>"
            f"<text x='{lx + 15}' y='{ly + 1}'>{escape(name[:20])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _verdict(value: object) -> str:
    text = escape(str(value or "?"))
    return f"<span class='badge {text}'>{text}</span>"


def _phase_rows(found: list[phases.Phase]) -> str:
    dimension = phases.chart_dimension(found) or "cluster"
    rows = []
    for phase in found:
        counts = phase.counts.get(dimension, {})
        total = sum(counts.values())
        cells = ", ".join(
            f"{escape(k)} {v}" + (f" ({phases.percent(v, total)})" if total else "")
            for k, v in sorted(counts.items())
        )
        seconds = phase.transition_seconds
        errors = ", ".join(
            f"{escape(k)}={escape(str(v))}" for k, v in phase.errors.items()
        )
        rows.append(
            f"<tr><td>{escape(phase.name)}</td><td>{cells or '-'}</td>"
            f"<td>{'-' if seconds is None else f'{seconds:.2f} s'}</td>"
            f"<td>{errors or '-'}</td></tr>"
        )
    return (
        f"<table><tr><th>phase</th><th>counts per {escape(dimension)}</th>"
        f"<th>transition</th><th>errors</th></tr>{''.join(rows)}</table>"
    )


def _drill(drill: report.Drill) -> str:
    entry = drill.entry
    title = f"#{entry.get('seq')} {report.experiment_label(entry)}"
    contexts = entry.get("contexts") or {}
    facts: list[tuple[str, Any]] = [
        (
            "started",
            f"{report.when(entry.get('started'))}, "
            f"{report.duration(entry.get('duration'))}",
        ),
        ("status", f"{entry.get('status')}, deviated={entry.get('deviated')}"),
        ("by", f"{entry.get('user')}@{entry.get('host')}"),
        ("experiment", report.experiment_text(entry)),
        ("clusters", ", ".join(f"{k} = {v}" for k, v in contexts.items()) or "-"),
        ("journal", f"{entry.get('journal')} sha256 {entry.get('journal_sha256')}"),
    ]
    reasons = phases.reasons(drill.journal) if drill.journal else []
    found = drill.phases
    body = [
        f"<section class='drill' id='drill-{escape(str(entry.get('seq')))}'>",
        f"<h2>{escape(title)} {_verdict(entry.get('verdict'))}</h2>",
        "<table>",
        *(f"<tr><th>{k}</th><td>{escape(str(v))}</td></tr>" for k, v in facts),
        "</table>",
        *(f"<p class='failed'>{escape(r)}</p>" for r in reasons),
    ]
    if drill.error:
        body.append(f"<p class='bad'>{escape(drill.error)}</p>")
    else:
        body.append(chart(found, title))
        if found:
            body.append(_phase_rows(found))
    body.append("</section>")
    return "\n".join(body)


def page(drills: Sequence[report.Drill], checked: verify.Result, source: str) -> str:
    """The whole report as one HTML document."""
    rows = "".join(
        f"<tr><td><a href='#drill-{escape(str(d.entry.get('seq')))}'>"
        f"{escape(str(d.entry.get('seq')))}</a></td>"
        f"<td>{escape(report.when(d.entry.get('started')))}</td>"
        f"<td>{escape(report.experiment_label(d.entry))}</td>"
        f"<td>{_verdict(d.entry.get('verdict'))}</td>"
        f"<td>{escape(report.duration(d.entry.get('duration')))}</td>"
        f"<td>{escape(', '.join(d.entry.get('contexts') or {}) or '-')}</td></tr>"
        for d in drills
    )
    if checked.ok:
        status = (
            f"<p class='ok'>Archive verified: {checked.entries} ledger line(s), "
            f"chain unbroken, head <code>{escape(str(checked.head))}</code>.</p>"
        )
    else:
        items = "".join(f"<li>{escape(str(p))}</li>" for p in checked.problems)
        status = f"<p class='bad'>Archive does NOT verify:</p><ul>{items}</ul>"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
            "<title>meshdrill drill report</title>",
            f"<style>{CSS}</style></head><body>",
            "<h1>meshdrill drill report</h1>",
            f"<p class='meta'>Archive {escape(source)}, generated "
            f"{escape(provenance.utc_now())}, {len(drills)} drill(s).</p>",
            status,
            "<table><tr><th>seq</th><th>when (UTC)</th><th>experiment</th>"
            f"<th>verdict</th><th>duration</th><th>clusters</th></tr>{rows}</table>",
            *(_drill(d) for d in drills),
            "</body></html>",
        ]
    )
