"""`-o json|yaml`, as kubectl has it: the data on stdout, for scripts and `jq`.

Commands that print tables take `-o/--output`; with it they print one JSON
document (indented) or one YAML document on stdout and nothing else there (notes
and warnings go to stderr), so `... -o json | python -m json.tool` always works.
"""

import argparse
import json
import sys
from typing import IO, Any

import yaml

__all__ = ["FORMATS", "add_option", "emit"]

FORMATS = ("json", "yaml")


def add_option(parser: argparse.ArgumentParser) -> None:
    """Add `-o/--output {json,yaml}` (default: the human table)."""
    parser.add_argument(
        "-o",
        "--output",
        choices=FORMATS,
        default=None,
        help="print json or yaml on stdout instead of tables",
    )


def emit(data: Any, fmt: str, stream: IO[str] | None = None) -> None:
    """Write `data` as one JSON or YAML document (non-JSON values as strings)."""
    out = stream or sys.stdout
    plain = json.loads(json.dumps(data, default=str))
    if fmt == "yaml":
        yaml.safe_dump(plain, out, sort_keys=False, allow_unicode=True)
    else:
        json.dump(plain, out, indent=2)
        out.write("\n")
    out.flush()
