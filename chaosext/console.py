"""The rich Console every `meshdrill` command prints with.

On a terminal rich takes the terminal's width. Piped or redirected (a CI log, a
file, `| less`), rich would fall back to 80 columns and squeeze tables until
columns vanish; there a wider page is the better default. `COLUMNS` still wins.
"""

import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chaosext.mesh.whatif import Prediction

__all__ = ["make_console", "prediction_table"]

PIPED_WIDTH = 160


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(stderr=stderr, width=width)


def prediction_table(prediction: Prediction) -> Table:
    """A what-if prediction as a table: pod, cluster, region, zone, priority, share
    (notes in the caption). `meshdrill lab explain` and `mesh explain` print it."""
    proxy = prediction.chooser
    table = Table(
        title=escape(
            f"{prediction.host} from {prediction.via}: {proxy.kind} in "
            f"{proxy.cluster}, {proxy.locality}"
        ),
        caption=escape("\n".join(prediction.notes)),
        caption_justify="left",
    )
    for column in ("pod", "cluster", "region", "zone"):
        table.add_column(column, no_wrap=column == "pod")
    table.add_column("priority", justify="right")
    table.add_column("share", justify="right")
    for row in prediction.rows:
        table.add_row(
            row.pod,
            row.cluster,
            row.region,
            row.zone,
            "-" if row.priority is None else str(row.priority),
            f"{100 * row.share:.1f}%",
        )
    return table
