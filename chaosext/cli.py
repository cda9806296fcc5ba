"""The `meshdrill` command: one sub-command per architectural part.

Each part registers its own sub-commands (`register(subparsers)`) and returns an
exit code from the handler it sets as `func`; this module only wires them up.
"""

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from chaosext import __version__

# (sub-command, module providing `register(subparsers)`)
PARTS: tuple[str, ...] = (
    "chaosext.lab.cli",
    "chaosext.live.cli",
    "chaosext.journals.cli",
    "chaosext.recover",
    "chaosext.gameday.cli",
)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meshdrill",
        description="Failover drills for multi-cluster service meshes.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in PARTS:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
