"""The HTML report as a whole: every kind of drill, game days, and a real browser."""

import json
import shutil
import struct
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chaosext.gameday.cron import CronSchedule
from chaosext.gameday.model import Drill, GameDay
from chaosext.gameday.summary import GameDayRun
from chaosext.gameday.verdicts import DrillResult
from chaosext.journals import archive, cli
from tests.journals import factory
from tests.journals.conftest import ARGV

KINDS = ("passed", "timeout", "dry", "refused")


def archive_kinds(directory: Path) -> dict[str, Path]:
    """One archived drill per kind, a minute apart; their journal files by kind."""
    done = {}
    for i, kind in enumerate(KINDS):
        journal = factory.drill_journal(kind, factory.BASE + timedelta(minutes=i))
        done[kind] = archive.archive_journal(
            journal, directory=directory, environ={}, argv=ARGV
        ).path
    return done


def write_game_day(directory: Path, journals: dict[str, Path]) -> Path:
    """A game-day report as `gameday run` writes it: passed, then failed, skipped."""
    run_dir = directory / "gamedays" / "20261121T223105Z-weekly"
    run_dir.mkdir(parents=True)
    started = datetime(2026, 11, 21, 22, 31, 5, tzinfo=UTC)
    results = []
    for i, (name, kind, verdict) in enumerate(
        (
            ("outlier-ejection", "passed", "passed"),
            ("ejection-fast", "timeout", "failed"),
        )
    ):
        path = run_dir / f"{i + 1:02d}-{name}.journal.json"
        shutil.copyfile(journals[kind], path)
        results.append(
            DrillResult(
                name,
                f"experiments/{name}.json",
                verdict,  # type: ignore[arg-type]
                () if verdict == "passed" else ("method: failing-pods-are-ejected",),
                started=started + timedelta(minutes=i),
                finished=started + timedelta(minutes=i, seconds=34),
                time_to_failover=0.16 if verdict == "passed" else None,
                journal=str(path),
            )
        )
    results.append(DrillResult("zone-outage", "x.json", "skipped", ("not run",)))
    game_day = GameDay(
        path=directory / "weekly.yaml",
        name="weekly-failover",
        schedule=CronSchedule.parse("0 6 * * 1", "UTC"),
        drills=tuple(Drill(r.name, Path(r.experiment)) for r in results),
    )
    run = GameDayRun(
        game_day,
        tuple(results),
        started,
        started + timedelta(minutes=2),
        run_dir,
        run_dir.with_name(f"gameday-{run_dir.name}.json"),
    )
    run.report_path.write_text(json.dumps(run.to_json()), encoding="utf-8")
    return run.report_path


def render(directory: Path, console, out: Path) -> str:
    assert (
        cli.run(["report", "--dir", str(directory), "--html", str(out)], console) == 0
    )
    return out.read_text(encoding="utf-8")


def test_page_draws_each_kind_of_drill_as_what_it_was(archive_dir, console, tmp_path):
    """Passed and failed drills get a timeline, a dry run says so, a refusal none."""
    archive_kinds(archive_dir)
    page = render(archive_dir, console, tmp_path / "r.html")
    assert page.count("<svg") == 3  # the refused drill measured nothing
    assert "Refused before anything ran: blast-radius guard" in page
    assert "Dry run: the actions only planned their changes" in page
    assert "planned <code>cluster-a-pods-answer-503</code>" in page
    assert "no convergence (timeout)" in page
    assert "converged (time to recover 29.93 s)" in page
    assert "rollback <code>clear-the-fault</code>: succeeded" in page
    assert "restore control: nothing left to restore" in page
    assert "@media print" in page
    assert "default-src 'none'" in page


def test_game_day_is_one_section_with_names_order_and_score(
    archive_dir, console, tmp_path
):
    """The game day lists its drills by name, in order, linked to their drills."""
    journals = archive_kinds(archive_dir)
    write_game_day(archive_dir, journals)
    page = render(archive_dir, console, tmp_path / "r.html")
    section = page.split("<section class='gameday'>")[1].split("</section>")[0]
    assert "Game day weekly-failover" in section
    assert "score <b>33.3%</b> (1 of 3 drills passed" in section
    names = ["outlier-ejection", "ejection-fast", "zone-outage"]
    positions = [section.index(name) for name in names]
    assert positions == sorted(positions)
    assert "<a href='#drill-1'>outlier-ejection</a>" in section
    assert "<a href='#drill-2'>ejection-fast</a>" in section
    assert "<td>0.16 s</td>" in section


@pytest.mark.slow
def test_report_renders_in_headless_chromium(archive_dir, console, tmp_path):
    """Chromium opens the page with no network, keeps every chart, and screenshots it.

    Skipped where no chromium is installed (Debian: `apt-get install chromium`).
    The screenshot is left in the test's tmp dir (printed) for a person to look at.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on PATH: the page's structure is checked elsewhere")
    journals = archive_kinds(archive_dir)
    write_game_day(archive_dir, journals)
    page = tmp_path / "report.html"
    render(archive_dir, console, page)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,3200",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert dom.count("<svg") == 3
    assert dom.count('class="series"') == 6
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 3200)
    print(f"screenshot: {shot}")
