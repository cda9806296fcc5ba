"""The `meshdrill` command: one sub-command per architectural part.

Each part registers its own sub-commands (`register(subparsers)`) and returns an
exit code from the handler it sets as `func`; this module only wires them up.
Only the part of the command being run is imported (`meshdrill --help` imports
none): parts pull in heavy libraries (the lab, the kubernetes client), and a
command should start in a fraction of a second.
"""

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from chaosext import __version__

# sub-command -> (module providing `register(subparsers)`, its one-line help);
# tests/unit/test_cli.py checks each help against what the module registers.
PARTS: dict[str, tuple[str, str]] = {
    "lab": ("chaosext.lab.cli", "run the embedded multi-cluster mesh lab"),
    "mesh": (
        "chaosext.live.cli",
        "explain, lint and check a live mesh through its Kubernetes API",
    ),
    "journals": (
        "chaosext.journals.cli",
        "the drill journal archive: list, show, verify, report",
    ),
    "recover": (
        "chaosext.recover",
        "undo what drills left changed (after a kill -9 or a lost machine)",
    ),
    "gameday": ("chaosext.gameday.cli", "run failover drills as scheduled game days"),
    "validate": (
        "chaosext.validate",
        "check experiment and var files (file:line:column for a syntax error)",
    ),
}


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, the sub-commands of that part alone are real (the
    others are listed by name and help, their modules not imported)."""
    parser = argparse.ArgumentParser(
        prog="meshdrill",
        description="Failover drills for multi-cluster service meshes.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in PARTS.items():
        if only is None or only == name:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def command_of(argv: Sequence[str]) -> str:
    """The part `argv` names (its first word that is not an option), else ""."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in PARTS else ""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=command_of(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(message)s",
    )
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"meshdrill: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("meshdrill: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
