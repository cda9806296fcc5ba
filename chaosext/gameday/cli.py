"""`meshdrill gameday validate|run|schedule|manifest`."""

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from rich.console import Console

from chaosext import output
from chaosext.cli import UsageError
from chaosext.console import make_console
from chaosext.gameday import manifest
from chaosext.gameday.executor import (
    DEFAULT_GRACE,
    ExperimentRunner,
    Interrupt,
    run_with_chaos,
)
from chaosext.gameday.model import GameDay
from chaosext.gameday.runner import journals_dir_for, run_game_day
from chaosext.gameday.scheduler import Scheduler
from chaosext.gameday.validation import GameDayError, load_game_day

__all__ = ["register"]

log = logging.getLogger("meshdrill.gameday")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _load(path: str, *, check_files: bool = True) -> GameDay:
    try:
        return load_game_day(path, check_files=check_files)
    except GameDayError as exc:
        raise UsageError(str(exc)) from exc


@contextlib.contextmanager
def forwarding_signals(
    interrupt: Interrupt, scheduler: Scheduler | None = None
) -> Iterator[None]:
    """While inside, SIGINT/SIGTERM become `interrupt.request(signum)`.

    `scheduler`, if given, is stopped as well. Outside the main thread, where
    Python cannot install handlers, nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        log.warning("%s received: stopping", signal.Signals(signum).name)
        if scheduler is not None:
            scheduler.stop()
        interrupt.request(signum)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def validate_command(args: argparse.Namespace, console: Console | None = None) -> int:
    """Check the file; show its drills and next due times."""
    console = console or make_console()
    game_day = _load(args.file)
    console.print(
        f"{game_day.path}: ok, {len(game_day.drills)} drill(s), "
        f"on_failure {game_day.on_failure}, concurrency {game_day.concurrency}",
        highlight=False,
    )
    for index, drill in enumerate(game_day.drills, start=1):
        console.print(f"  {index}. {drill.name}: {drill.experiment}", highlight=False)
    due = datetime.now(UTC)
    for _ in range(3):
        due = game_day.schedule.next_after(due)
        local = due.astimezone(game_day.schedule.timezone)
        console.print(f"  next run: {local.isoformat()}", highlight=False)
    return 0


def run_command(
    args: argparse.Namespace,
    console: Console | None = None,
    runner: ExperimentRunner = run_with_chaos,
) -> int:
    """Run the game day now; exit 0 only if every drill passed.

    With `-o json|yaml` the game-day report is the only thing on stdout; the
    progress lines and the summary table go to stderr.
    """
    fmt = getattr(args, "output", None)
    console = console or make_console(stderr=bool(fmt))
    game_day = _load(args.file)
    interrupt = Interrupt(args.grace)
    journals = journals_dir_for(game_day, args.journals_dir)
    with forwarding_signals(interrupt):
        run = run_game_day(
            game_day,
            console=console,
            interrupt=interrupt,
            journals_dir=journals,
            runner=runner,
            live=console.is_terminal and not args.no_progress,
        )
    if fmt:
        output.emit(run.to_json(), fmt)
    return run.exit_code


def schedule_command(
    args: argparse.Namespace,
    console: Console | None = None,
    runner: ExperimentRunner = run_with_chaos,
) -> int:
    """Run the game day on its schedule until SIGTERM/SIGINT; 0 on a clean stop."""
    console = console or make_console()
    game_day = _load(args.file)
    interrupt = Interrupt(args.grace)
    journals = journals_dir_for(game_day, args.journals_dir)

    def run_once(due: datetime) -> None:
        run = run_game_day(
            game_day,
            console=console,
            interrupt=interrupt,
            journals_dir=journals,
            runner=runner,
            live=False,
            due=due,
        )
        log.info(
            "game day %r due at %s: %s, score %g%%, report %s",
            game_day.name,
            due.astimezone(game_day.schedule.timezone).isoformat(),
            run.outcome,
            run.score,
            run.report_path,
        )

    scheduler = Scheduler(
        game_day.schedule,
        run_once,
        concurrency=game_day.concurrency,
        starting_deadline=game_day.starting_deadline_seconds,
    )
    log.info(
        "scheduling game day %r: %r in %s, concurrency %s, journals in %s",
        game_day.name,
        game_day.schedule.expression,
        game_day.timezone,
        game_day.concurrency,
        journals,
    )
    with forwarding_signals(interrupt, scheduler):
        clean = scheduler.serve(join_timeout=args.grace + 30)
    return 0 if clean else 1


def manifest_command(args: argparse.Namespace) -> int:
    """Print the Kubernetes objects (or only the target-cluster RBAC) as YAML."""
    game_day = _load(args.file, check_files=not args.rbac_only)
    options = manifest.ManifestOptions(
        image=args.image,
        namespace=args.namespace,
        kubeconfig_secret=args.kubeconfig_secret,
        storage=args.storage,
        successful_history=args.successful_history,
        failed_history=args.failed_history,
        target_namespaces=tuple(args.target_namespace or ()),
        rbac=not args.no_rbac,
    )
    try:
        objects = manifest.manifest_objects(game_day, options, rbac_only=args.rbac_only)
    except manifest.ManifestError as exc:
        raise UsageError(str(exc)) from exc
    if args.rbac_only:
        header = (
            f"meshdrill game day {game_day.name!r}: RBAC for a TARGET cluster.\n"
            "Apply in every cluster the drills act on, then put a token of this\n"
            "ServiceAccount into the kubeconfig Secret of the management cluster."
        )
    else:
        header = (
            f"meshdrill game day {game_day.name!r}: apply in the management cluster.\n"
            f"Needs Secret {options.namespace}/{options.kubeconfig_secret} (key\n"
            "`kubeconfig`) for the target clusters, and `--rbac-only` applied there."
        )
    text = manifest.to_yaml(objects, header)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `gameday` and its sub-commands to the `meshdrill` parser."""
    gameday = subparsers.add_parser(
        "gameday", help="run failover drills as scheduled game days"
    )
    commands = gameday.add_subparsers(dest="gameday_command", required=True)

    validate = commands.add_parser("validate", help="check a game-day file")
    validate.add_argument("file", help="game-day YAML file")
    validate.set_defaults(func=validate_command)

    for name, func, text in (
        ("run", run_command, "run the game day now, drill after drill"),
        ("schedule", schedule_command, "run the game day on its cron schedule"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("file", help="game-day YAML file")
        command.add_argument(
            "--journals-dir",
            type=Path,
            help="journal archive (default: the file's journals_dir, "
            "$MESHDRILL_JOURNALS_DIR, ./journals)",
        )
        command.add_argument(
            "--grace",
            type=float,
            default=DEFAULT_GRACE,
            help="seconds a stopped drill may take to restore before it is "
            "killed (default %(default)s)",
        )
        if name == "run":
            command.add_argument(
                "--no-progress", action="store_true", help="no live progress bar"
            )
            output.add_option(command)
        command.set_defaults(func=func)

    make = commands.add_parser(
        "manifest", help="print Kubernetes objects running it as a CronJob"
    )
    make.add_argument("file", help="game-day YAML file")
    make.add_argument("--image", default=manifest.ManifestOptions.image)
    make.add_argument("--namespace", default=manifest.ManifestOptions.namespace)
    make.add_argument(
        "--kubeconfig-secret",
        default=manifest.ManifestOptions.kubeconfig_secret,
        help="Secret (key `kubeconfig`) with the target clusters' contexts",
    )
    make.add_argument("--storage", default=manifest.ManifestOptions.storage)
    make.add_argument("--successful-history", type=_non_negative, default=3)
    make.add_argument("--failed-history", type=_non_negative, default=3)
    make.add_argument(
        "--target-namespace",
        action="append",
        help="grant the namespaced rules only in this namespace (repeatable); "
        "default: all namespaces",
    )
    choice = make.add_mutually_exclusive_group()
    choice.add_argument(
        "--rbac-only",
        action="store_true",
        help="only the ServiceAccount and RBAC, to apply in each target cluster",
    )
    choice.add_argument(
        "--no-rbac",
        action="store_true",
        help="no RBAC in the management cluster (it is not a target)",
    )
    make.add_argument("-o", "--output", help="write to this file, not stdout")
    make.set_defaults(func=manifest_command)
