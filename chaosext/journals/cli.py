"""`meshdrill journals list|show|verify|report|export`: read the archive.

Every sub-command takes `--dir`; the archive is `--dir`, else
$MESHDRILL_JOURNALS_DIR, else ./journals (the control also honours the
configuration key `journals_dir`, between the two).
"""

import argparse
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from chaosext import output
from chaosext.console import make_console
from chaosext.journals import archive, atomic, export, html, report, verify

Handler = Callable[[argparse.Namespace, Console], int]


def _console(args: argparse.Namespace) -> Console:
    console = getattr(args, "console", None)
    return console if isinstance(console, Console) else make_console()


def _directory(args: argparse.Namespace) -> Path:
    return archive.resolve_dir(args.dir)


def _wrap(handler: Handler) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        console = _console(args)
        try:
            return handler(args, console)
        except archive.ArchiveError as exc:
            console.print(f"meshdrill journals: {exc}", style="red", highlight=False)
            return 2

    return run


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    directory = archive.existing_dir(_directory(args))
    everything = archive.entries(directory, None)  # started and recover lines too
    rows = archive.runs(everything)
    recorded = {e.get("journal") for e in everything}
    unrecorded = set(verify.journal_names(directory)) - recorded
    if args.output:
        data = {
            "directory": str(directory),
            "items": rows,
            "unrecorded": sorted(unrecorded),
        }
        output.emit(data, args.output, console.file)
        return 0
    console.print(report.list_table(rows, f"journals in {directory}"))
    if unrecorded:
        console.print(
            f"[yellow]{len(unrecorded)} journal file(s) have no ledger line: "
            "run `meshdrill journals verify`[/yellow]"
        )
    return 0


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    directory = archive.existing_dir(_directory(args))
    entry = archive.find(directory, args.id)
    try:
        drill = report.Drill(entry, archive.load_journal(directory, entry["journal"]))
    except archive.ArchiveError as exc:
        drill = report.Drill(entry, None, str(exc))
    if args.output:
        data = {"entry": entry, "journal": drill.journal, "error": drill.error}
        output.emit(data, args.output, console.file)
        return 0
    report.show(console, drill)
    return 0


def cmd_verify(args: argparse.Namespace, console: Console) -> int:
    if args.archive:
        path = Path(args.archive)
        if not path.is_file():
            raise archive.ArchiveError(f"no export file {path}")
        result = export.verify_export(path)
        what = str(path)
    else:
        directory = archive.existing_dir(_directory(args))
        result = verify.verify_dir(directory, head=args.head)
        what = str(directory)
    report.print_verify(console, result, what)
    return 0 if result.ok else 1


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    directory = archive.existing_dir(_directory(args))
    drills = report.load(directory)
    report.summary(console, drills, f"drills in {directory}")
    checked = verify.verify_dir(directory)
    if not checked.ok:
        console.print(
            f"[bold red]the archive does not verify ({len(checked.problems)} "
            "problem(s)): run `meshdrill journals verify`[/bold red]"
        )
    if args.html:
        out = Path(args.html)
        if not out.parent.is_dir():
            raise archive.ArchiveError(f"cannot write {out}: no directory {out.parent}")
        page = html.page(drills, checked, str(directory), report.game_days(directory))
        atomic.write_bytes(out, page.encode("utf-8"))
        console.print(f"HTML report written to {out}", highlight=False)
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    directory = archive.existing_dir(_directory(args))
    since = export.parse_since(args.since)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out or f"meshdrill-journals-{since:%Y%m%d}-{stamp}.tar.gz")
    done = export.export(directory, since, out)
    console.print(
        f"exported {done.journals} journal(s) (seq {done.first_seq}-{done.last_seq}) "
        f"to {done.path}; head {done.head}",
        highlight=False,
    )
    return 0


def register(subparsers: Any) -> None:
    """Add `journals` and its sub-commands to the `meshdrill` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir",
        help=f"archive directory (default: ${archive.DIR_ENV}, else ./journals)",
    )
    parser = subparsers.add_parser(
        "journals", help="the drill journal archive: list, show, verify, report"
    )
    commands = parser.add_subparsers(dest="journals_command", required=True)
    p = commands.add_parser("list", parents=[common], help="table of archived drills")
    output.add_option(p)
    p.set_defaults(func=_wrap(cmd_list))
    p = commands.add_parser("show", parents=[common], help="one drill's phases")
    p.add_argument("id", help="ledger seq, journal file name, or a digest prefix")
    output.add_option(p)
    p.set_defaults(func=_wrap(cmd_show))
    p = commands.add_parser(
        "verify", parents=[common], help="check journals against the ledger chain"
    )
    p.add_argument("--head", help="a line_sha256 recorded earlier that must be there")
    p.add_argument("--archive", help="verify an export tarball instead of a directory")
    p.set_defaults(func=_wrap(cmd_verify))
    p = commands.add_parser("report", parents=[common], help="summary (and HTML)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained page")
    p.set_defaults(func=_wrap(cmd_report))
    p = commands.add_parser(
        "export", parents=[common], help="tarball of journals since a date"
    )
    p.add_argument("--since", required=True, help="YYYY-MM-DD or ISO time (UTC)")
    p.add_argument("--out", metavar="FILE", help="output .tar.gz")
    p.set_defaults(func=_wrap(cmd_export))


def run(argv: Sequence[str], console: Console | None = None) -> int:
    """Run `journals ARGV` alone (tests, embedding); returns the exit code."""
    parser = argparse.ArgumentParser(prog="meshdrill")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["journals", *argv])
    args.console = console
    code: int = args.func(args)
    return code
