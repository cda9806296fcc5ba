"""The rich Console every `meshdrill` command prints with.

On a terminal rich takes the terminal's width. Piped or redirected (a CI log, a
file, `| less`), rich would fall back to 80 columns and squeeze tables until
columns vanish; there a wider page is the better default. `COLUMNS` still wins.
"""

import os
import sys

from rich.console import Console

__all__ = ["make_console"]

PIPED_WIDTH = 160


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
    # soft_wrap: a message is never broken across lines (a path stays whole and
    # greppable); tables still fit the width.
    return Console(stderr=stderr, width=width, soft_wrap=True)
