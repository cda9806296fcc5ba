"""list, show, report and the HTML page read the archive correctly."""

from html.parser import HTMLParser

from chaosext.journals import (
    archive,
    chart,
    cli,
    html,
    phases,
    report,
    timeline,
    verify,
)
from tests.journals import factory
from tests.journals.conftest import archive_many, text


class PageParser(HTMLParser):
    """Collects the series of each SVG and every attribute that could load a URL."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs = 0
        self.series: list[str] = []
        self.references: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "svg":
            self.svgs += 1
        if tag == "g" and "series" in (values.get("class") or ""):
            self.series.append(values["data-series"])
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            if values.get(name):
                self.references.append(values[name])


def test_list_shows_one_row_per_drill(archive_dir, console):
    """list prints when, experiment, verdict, duration and clusters for each drill."""
    archive_many(archive_dir, 2)
    assert cli.run(["list", "--dir", str(archive_dir)], console) == 0
    out = text(console)
    assert out.count("region_outage.json") == 2
    assert "2026-11-21 22:31:05Z" in out
    assert "passed" in out
    assert "cluster-a, cluster-b" in out
    assert "1m 04s" in out


def test_show_prints_phases_counts_transitions_errors(archive_dir, console):
    """show ID prints each phase with per-cluster counts, transition and errors."""
    archive_many(archive_dir, 1, verdict="failed")
    assert cli.run(["show", "1", "--dir", str(archive_dir)], console) == 0
    out = text(console)
    assert "failover" in out
    assert "cluster-b 100 (100%)" in out
    assert "3.20 s" in out
    assert "connect=1" in out
    assert "failover: 12% to cluster-a" in out


def test_show_unknown_id_is_a_usage_error(archive_dir, console):
    """show with an id the ledger does not know exits 2 and says so."""
    archive_many(archive_dir, 1)
    assert cli.run(["show", "7", "--dir", str(archive_dir)], console) == 2
    assert "no journal '7'" in text(console)


def test_phases_fall_back_to_probe_outputs():
    """Without the meshdrill record, phases come from probe outputs in run order."""
    found = phases.phases(factory.journal(verdict=None))
    assert [p.name for p in found] == ["steady", "failover", "recovered"]
    assert found[1].counts["cluster"] == {"cluster-a": 0, "cluster-b": 100}
    assert found[0].start == "2026-11-21T22:31:05+00:00"


def test_report_summarises_verdicts(archive_dir, console):
    """report prints every drill and a count per verdict."""
    archive_many(archive_dir, 2)
    archive_many(archive_dir, 1, verdict="failed")
    assert cli.run(["report", "--dir", str(archive_dir)], console) == 0
    assert "3 drill(s): 1 failed, 2 passed" in text(console)


def test_html_report_is_self_contained_with_one_series_per_cluster(
    archive_dir, console, tmp_path
):
    """The HTML page parses, has an SVG per drill, a series per cluster, no URLs."""
    archive_many(archive_dir, 2)
    out = tmp_path / "report.html"
    assert (
        cli.run(["report", "--dir", str(archive_dir), "--html", str(out)], console) == 0
    )
    page = out.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert parser.svgs == 2
    assert parser.series == ["cluster-a", "cluster-b"] * 2
    assert all(ref.startswith("#") for ref in parser.references)
    assert "script" not in parser.tags
    assert "url(" not in page
    assert "@import" not in page
    assert "Archive verified" in page


def test_html_chart_plots_the_shares():
    """The failover phase puts cluster-b's point at the top of the chart (100%)."""
    tl = timeline.timeline(factory.journal())
    svg = chart.svg(tl, "x")
    top = f"cy='{chart._Canvas.y(1.0):.1f}'"
    bottom = f"cy='{chart._Canvas.y(0.0):.1f}'"
    series = {part.split("'")[0]: part for part in svg.split("data-series='")[1:]}
    assert top in series["cluster-b"].split("</g>")[0]
    assert bottom in series["cluster-a"].split("</g>")[0]


def test_html_escapes_journal_text(archive_dir):
    """Text from journals is escaped, so a title cannot inject markup."""
    archive.archive_journal(
        factory.journal(title="<script>alert(1)</script>"),
        directory=archive_dir,
        environ={},
        argv=[],
    )
    page = html.page(report.load(archive_dir), verify.verify_dir(archive_dir), "x")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_html_says_when_the_archive_does_not_verify(archive_dir):
    """A tampered archive's report says so at the top."""
    done = archive_many(archive_dir, 1)
    done[0].path.write_text("{}")
    page = html.page(report.load(archive_dir), verify.verify_dir(archive_dir), "x")
    assert "does NOT verify" in page


def test_phase_with_nothing_counted_renders(archive_dir, console, tmp_path):
    """A phase whose counts are all zero shows its counts and leaves no chart point."""
    splits = {"steady": {"a": 5, "b": 5}, "scaled": {"a": 0, "b": 0}, "after": {"a": 5}}
    archive_many(archive_dir, 1, splits=splits)
    out = tmp_path / "r.html"
    assert (
        cli.run(["report", "--dir", str(archive_dir), "--html", str(out)], console) == 0
    )
    assert cli.run(["show", "1", "--dir", str(archive_dir)], console) == 0
    assert "a 0  b 0" in text(console)
    assert out.read_text().count("<circle") == 4  # 2 phases x 2 series


def test_show_finds_a_drill_by_name_or_digest_prefix(archive_dir, console):
    """show accepts the seq, the file name, or a prefix of the name or digest."""
    (_, done) = archive_many(archive_dir, 2)
    for ident in (
        done.path.name,
        done.path.name[:20],
        done.entry["journal_sha256"][:8],
    ):
        assert archive.find(archive_dir, ident)["seq"] == 2
    assert cli.run(["show", done.path.name, "--dir", str(archive_dir)], console) == 0


def test_list_warns_about_journals_without_ledger_line(archive_dir, console):
    """list points at verify when a journal file has no ledger line."""
    archive_many(archive_dir, 1)
    (archive_dir / "20990101T000000Z-stray-000000000000.json").write_text("{}")
    assert cli.run(["list", "--dir", str(archive_dir)], console) == 0
    assert "1 journal file(s) have no ledger line" in text(console)


def test_a_phase_that_found_something_in_words_shows_it(console):
    """A phase with no counts but a finding (cross_network_reach) shows the words."""
    found = phases.phases(
        {
            "meshdrill": {
                "phases": [
                    {"name": "method: nowhere", "counts": {"cluster": {"error": 9}}},
                    {
                        "name": "method: cluster2-out-of-reach",
                        "counts": {},
                        "finding": "failover to cluster2 has nowhere to go: ...",
                    },
                ]
            }
        }
    )
    assert found[1].finding == "failover to cluster2 has nowhere to go: ..."
    console.print(report.phases_table(found))
    out = text(console)
    assert "error 9 (100%)" in out
    assert "failover to cluster2 has nowhere to go" in out
