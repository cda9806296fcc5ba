"""The timeline chart: its SVG's structure, read back as XML, for each kind of drill."""

import xml.etree.ElementTree as ET

import pytest

from chaosext.journals import chart, timeline
from tests.journals import factory

NS = {"svg": "http://www.w3.org/2000/svg"}


def drawn(kind: str) -> ET.Element:
    tl = timeline.timeline(factory.drill_journal(kind))
    return ET.fromstring(chart.svg(tl, kind))


def classes(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


def label_text(text: ET.Element) -> str:
    """A label's visible text (its tooltip title comes first)."""
    title = text.find("svg:title", NS)
    return (title.tail if title is not None else text.text) or ""


def width(rect: ET.Element) -> float:
    return float(rect.get("width", "0"))


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (34.2, [0, 5, 10, 15, 20, 25, 30, 35]),
        (1.5, [0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6]),
        (8.0, [0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ],
)
def test_ticks_are_round_and_cover_the_run(span, expected):
    """Ticks step by 1, 2 or 5 x 10^k from 0 to the first one at or past the end."""
    assert chart.ticks(span) == pytest.approx(expected)


def test_timeline_puts_batches_and_actions_on_the_run_clock():
    """Batches at probe start + t, actions at their start; from the journal's start."""
    tl = timeline.timeline(factory.drill_journal("passed"))
    ejected, back = tl.waits
    assert ejected.batches[0].t == pytest.approx(2.1)
    assert ejected.converged_at == pytest.approx(2.26)
    assert back.converged_at == pytest.approx(2.75 + 29.93)
    assert [(m.kind, round(m.t, 2)) for m in tl.markers] == [
        ("fault", 2.0),
        ("repair", 2.7),
        ("rollback", 34.1),
    ]
    assert tl.transition_label(ejected) == "time to failover"
    assert tl.transition_label(back) == "time to recover"


def test_svg_has_axes_series_per_destination_markers_and_windows():
    """Axes in % and seconds, one series per cluster, the three markers, two windows."""
    root = drawn("passed")
    assert root.get("data-seconds") == "35"
    y_labels = [t.text for t in root.iterfind(".//svg:g[@class='axis y']/svg:text", NS)]
    assert y_labels[:5] == ["0%", "25%", "50%", "75%", "100%"]
    x_ticks = [t.text for t in classes(root, "tick")]
    assert x_ticks[0] == "0"
    assert x_ticks[-1] == "35"
    assert [g.get("data-series") for g in classes(root, "series")] == [
        "cluster-a",
        "cluster-b",
    ]
    kinds = [
        next(c for c in m.get("class", "").split() if c != "marker")
        for m in classes(root, "marker")
    ]
    assert sorted(kinds) == ["converged", "converged", "fault", "repair", "rollback"]
    windows = {w.get("data-label"): w for w in classes(root, "window")}
    assert set(windows) == {"failover 0.16 s", "recover 29.93 s"}
    # the 30 s recovery is drawn about 190 times as wide as the 0.16 s failover
    assert width(windows["recover 29.93 s"]) > 50 * width(windows["failover 0.16 s"])


def test_series_follow_the_batches():
    """cluster-b is at 100% while ejected and back near 50% at the end of recovery."""
    root = drawn("passed")
    series = {g.get("data-series"): g for g in classes(root, "series")}
    lines = series["cluster-b"].findall("svg:polyline", NS)
    assert len(lines) == 2  # one per wait
    ejected = [p.split(",") for p in lines[0].get("points", "").split()]
    top = f"{chart._Canvas.y(1.0):.1f}"
    assert [y for _, y in ejected[1:]] == [top] * 3
    assert len(lines[1].get("points", "").split()) == 123  # every batch
    checks = series["cluster-a"].findall("svg:circle", NS)
    assert len(checks) == 2  # steady state before and after


def test_errors_are_drawn_beneath_on_the_same_axis():
    """The ejection's first batch had 2 errors: one bar, the strip's maximum."""
    root = drawn("passed")
    strip = classes(root, "errors")[0]
    assert strip.get("data-max") == "2"
    assert len(classes(root, "error-bar")) == 1


def test_failed_wait_is_drawn_to_its_last_batch_with_the_reason():
    """A wait that timed out: shaded red to its end, line stops at the last batch."""
    root = drawn("timeout")
    tl = timeline.timeline(factory.drill_journal("timeout"))
    failed = classes(root, "failed")
    assert len(failed) == 1
    assert "no 3 consecutive batches" in ET.tostring(failed[0], encoding="unicode")
    assert any(
        label_text(t).startswith("no convergence (timeout)")
        for t in classes(root, "l-failed")
    )
    canvas = chart._Canvas(tl.duration)
    last = tl.spans[1].batches[-1].t
    b_lines = classes(root, "series")[1].findall("svg:polyline", NS)
    xs = [
        float(p.split(",")[0]) for line in b_lines for p in line.get("points").split()
    ]
    assert max(xs) == pytest.approx(canvas.x(last), abs=0.06)
    assert len(b_lines) == 2  # broken at the batch nothing answered
    assert len(classes(root, "no-answer")) == 1
    assert not classes(root, "window") or all(
        "failed" in w.get("class", "") for w in classes(root, "window")
    )


def test_dry_run_draws_plans_and_skipped_waits_and_no_line():
    """A dry run: planned markers, a grey skipped band, no polyline anywhere."""
    root = drawn("dry")
    assert not root.findall(".//svg:polyline", NS)
    assert len(classes(root, "skipped")) == 1
    planned = classes(root, "planned")
    assert [m.get("class") for m in planned] == ["marker fault planned"]
    assert not classes(root, "window")
    assert len(classes(root, "series")[0].findall("svg:circle", NS)) == 2


def test_labels_never_overlap():
    """Every label above the plot has its own room in its lane."""
    for kind in ("passed", "timeout", "dry"):
        root = drawn(kind)
        boxes: dict[str, list[tuple[float, float]]] = {}
        for text in classes(root, "label"):
            left = float(text.get("x", "0"))
            label = label_text(text)
            right = left + chart.CHAR * len(label)
            for a, b in boxes.get(text.get("y", ""), []):
                assert right <= a + 3 or left >= b - 3, (kind, label)
            boxes.setdefault(text.get("y", ""), []).append((left, right))


def test_a_journal_without_its_start_is_timed_from_its_first_activity():
    """No `start`: the clock starts at the earliest activity, not at the epoch."""
    journal = factory.drill_journal("passed")
    del journal["start"]
    tl = timeline.timeline(journal)
    assert tl.spans[0].start == pytest.approx(0.0)
    assert tl.markers[0].t == pytest.approx(0.9)
    assert tl.duration < 60
