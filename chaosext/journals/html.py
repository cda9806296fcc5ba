"""One self-contained HTML page for the archive: game days, verdicts, timelines.

Inline CSS, inline SVG (drawn by `chart`), no script, and a Content-Security-Policy
that forbids loading anything, so the page opens the same with no network. Each
drill gets its timeline over real time, its reasons, what was restored and a
table of its phases; game days come first, with their drills in order and score.
"""

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from chaosext.journals import chart, phases, provenance, report, timeline, verify

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
padding:0 1em;color:#1b1f24;max-width:1100px}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:0 0 .4em}
.meta{color:#57606a}table{border-collapse:collapse;margin:.6em 0}
th,td{border-bottom:1px solid #d8dee4;padding:.25em .7em;text-align:left;
vertical-align:top}th{background:#f6f8fa}
.passed{color:#116329;font-weight:600}.failed,.error{color:#b3261e;font-weight:600}
.dry-run,.skipped,.interrupted{color:#7d4e00;font-weight:600}
.badge{border-radius:1em;padding:.1em .7em;border:1px solid currentColor}
section{border:1px solid #d8dee4;border-radius:8px;padding:1em 1.2em;margin:1.2em 0}
.ok{color:#116329}.bad{color:#b3261e}.note{background:#fff8c5;padding:.4em .7em}
svg.timeline{width:100%;height:auto;max-width:960px}
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}
svg .grid{stroke:#eaeef2}svg .axisline,svg .tickmark{stroke:#57606a}
svg .series polyline,svg .series line{fill:none;stroke-width:2.2}
svg .series circle{stroke:none}
svg .window{fill:#f2cc60;fill-opacity:.35}svg .window.failed{fill:#ff8182}
svg .skipped{fill:#d0d7de;fill-opacity:.5}
svg .marker{stroke:#1b1f24;stroke-width:1.4;stroke-dasharray:5 3}
svg .marker.fault{stroke:#b3261e}svg .marker.repair{stroke:#116329}
svg .marker.planned{stroke-dasharray:2 4}svg path.converged{fill:#1b1f24}
svg .l-fault,svg .l-failed,svg .no-answer{fill:#b3261e}
svg .l-repair{fill:#116329}svg .l-window{fill:#7d4e00}svg .error-bar{fill:#b3261e}
.key{color:#57606a;font-size:.9em;margin:.2em 0 .6em}
code{font-size:.9em}
@media print{body{margin:0;max-width:none;font-size:11px}
section{break-inside:avoid;border:none;border-top:1px solid #999;border-radius:0;
padding:.6em 0}a{color:inherit;text-decoration:none}.badge{border:none}}
"""
KEY = (
    "Shares of answers per destination, batch by batch while waiting. "
    "Dashed lines: fault applied (red), repaired (green), rolled back; dotted: "
    "planned in a dry run. \u25bc: converged. Shaded: a transition, labelled with "
    "its time; red: it never converged. Beneath: failed requests per batch "
    "(\u00d7: a batch nothing known answered). \u201cunknown\u201d: answers from "
    "hostnames that are no pod of the workload (e.g. pods being deleted)."
)

CSP = "default-src 'none'; style-src 'unsafe-inline'"


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
        rows.append(
            f"<tr><td>{escape(phase.name)}</td><td>{cells or '-'}</td>"
            f"<td>{'-' if seconds is None else f'{seconds:.2f} s'}</td>"
            f"<td>{escape(_kinds(phase.errors))}</td>"
            f"<td>{escape(_kinds(phase.transition_errors))}</td></tr>"
        )
    return (
        f"<table><tr><th>phase</th><th>counts per {escape(dimension)}</th>"
        "<th>transition</th><th>errors</th><th>transition errors</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _kinds(errors: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in errors.items() if v) or "-"


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:159] + "\u2026"


def _restores(journal: Mapping[str, Any]) -> str:
    """The rollbacks that ran and what the restore control put back."""
    items = [
        f"<li>rollback <code>{escape(str((r.get('activity') or {}).get('name')))}"
        f"</code>: {escape(str(r.get('status')))}, "
        f"<code>{escape(_short(r.get('output')))}</code></li>"
        for r in journal.get("rollbacks") or []
        if isinstance(r, Mapping)
    ]
    record = (journal.get("meshdrill") or {}).get("restore")
    if isinstance(record, Mapping):
        for change in record.get("restored") or []:
            items.append(f"<li>restored: <code>{escape(_short(change))}</code></li>")
        for failed in record.get("failed") or []:
            items.append(
                f"<li class='bad'>could NOT restore: {escape(str(failed))} "
                "(run <code>meshdrill recover</code>)</li>"
            )
        if not record.get("restored") and not record.get("failed"):
            items.append("<li>restore control: nothing left to restore</li>")
    if not items:
        return ""
    return f"<h3>Rollbacks and restore</h3><ul>{''.join(items)}</ul>"


def _events(tl: timeline.Timeline) -> str:
    rows = [
        (m.t, ("planned: " if m.planned else "") + chart.MARKER_TEXT[m.kind], m.name)
        for m in tl.markers
    ]
    for span in tl.waits:
        if span.converged_at is not None:
            label = f"converged ({tl.transition_label(span)} {span.transition:.2f} s)"
            rows.append((span.converged_at, label, span.name))
    cells = "".join(
        f"<tr><td>{t:.2f} s</td><td>{escape(what)}</td><td>{escape(name)}</td></tr>"
        for t, what, name in sorted(rows)
    )
    if not cells:
        return ""
    return f"<table><tr><th>at</th><th>event</th><th>activity</th></tr>{cells}</table>"


def _evidence(drill: report.Drill, title: str) -> list[str]:
    journal = drill.journal or {}
    notes = journal.get("meshdrill") or {}
    if notes.get("refused"):
        why = escape(str(notes["refused"]))
        return [
            f"<p class='note'>Refused before anything ran: {why}."
            " Nothing was measured or changed, so there is no chart.</p>"
        ]
    tl = timeline.timeline(journal)
    out = []
    if notes.get("dry_run"):
        out.append(
            "<p class='note'>Dry run: the actions only planned their changes "
            "(nothing was changed) and the waits were skipped.</p>"
        )
        plans = notes.get("plan") or []
        out.append(
            "<ul>"
            + "".join(
                f"<li>planned <code>{escape(str(p.get('action')))}</code>: "
                f"<code>{escape(_short(p.get('plan')))}</code></li>"
                for p in plans
                if isinstance(p, Mapping)
            )
            + "</ul>"
        )
    if tl.spans:
        out += [chart.svg(tl, title), f"<p class='key'>{KEY}</p>", _events(tl)]
    else:
        out.append("<p class='meta'>No traffic measured in this drill.</p>")
    return out


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
        body += _evidence(drill, title)
        if drill.phases:
            body.append(_phase_rows(drill.phases))
        body.append(_restores(drill.journal or {}))
    body.append("</section>")
    return "\n".join(body)


def _game_day(run: Mapping[str, Any], seq_of: Mapping[str, Any]) -> str:
    rows = []
    for i, result in enumerate(run.get("drills") or [], start=1):
        seq = seq_of.get(str(result.get("run_id")))
        name = escape(str(result.get("name")))
        link = f"<a href='#drill-{escape(str(seq))}'>{name}</a>" if seq else name
        failover = result.get("time_to_failover")
        if not isinstance(failover, int | float) or isinstance(failover, bool):
            failover = None
        rows.append(
            f"<tr><td>{i}</td><td>{link}</td><td>{_verdict(result.get('verdict'))}</td>"
            f"<td>{escape(report.duration(result.get('duration')))}</td>"
            f"<td>{'-' if failover is None else f'{failover:.2f} s'}</td>"
            f"<td>{escape('; '.join(result.get('reasons') or [])) or '-'}</td></tr>"
        )
    return (
        f"<section class='gameday'><h2>Game day {escape(str(run.get('gameday')))} "
        f"{_verdict(run.get('outcome'))}</h2><p class='meta'>"
        f"{escape(report.when(run.get('started')))}, "
        f"{escape(report.duration(run.get('duration')))}; score "
        f"<b>{run.get('score')}%</b> ({run.get('passed')} of {run.get('total')} "
        f"drills passed; {escape(str(run.get('score_definition')))})</p>"
        "<table><tr><th>#</th><th>drill</th><th>verdict</th><th>duration</th>"
        f"<th>time to failover</th><th>reasons</th></tr>{''.join(rows)}</table>"
        "</section>"
    )


def page(
    drills: Sequence[report.Drill],
    checked: verify.Result,
    source: str,
    game_days: Sequence[Mapping[str, Any]] = (),
) -> str:
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
    seq_of = {str(d.entry.get("run_id")): d.entry.get("seq") for d in drills}
    return "\n".join(
        [
            "<!DOCTYPE html>",
            "<html lang='en'><head><meta charset='utf-8'>",
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            "<title>meshdrill drill report</title>",
            f"<style>{CSS}</style></head><body>",
            "<h1>meshdrill drill report</h1>",
            f"<p class='meta'>Archive {escape(source)}, generated "
            f"{escape(provenance.utc_now())}, {len(drills)} drill(s).</p>",
            status,
            *(_game_day(run, seq_of) for run in game_days),
            "<table><tr><th>seq</th><th>when (UTC)</th><th>experiment</th>"
            f"<th>verdict</th><th>duration</th><th>clusters</th></tr>{rows}</table>",
            *(_drill(d) for d in drills),
            "</body></html>",
        ]
    )
