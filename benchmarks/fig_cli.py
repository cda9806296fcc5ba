"""How long a command takes to start: `meshdrill --help` in a fresh interpreter.

`cli_start_ms`: wall time of `meshdrill --help` (the installed entry point of
this interpreter's environment), median over repeats after one warm-up run.
`activity_import_ms`: `python -c "import probes.waiting, probes.split"`, what
Chaos Toolkit pays to load the probes (the CLI's and chaos' own start aside).
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from measuring import figure_text, interleaved

MESHDRILL = Path(sys.executable).with_name("meshdrill")


def _ms(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return (time.perf_counter() - start) * 1e3


def figures(quick: bool) -> Iterator[tuple[str, str]]:
    repeats = 5 if quick else 15
    contenders = {
        "cli": lambda: _ms([str(MESHDRILL), "--help"]),
        "import": lambda: _ms(
            [sys.executable, "-c", "import probes.waiting, probes.split"]
        ),
        "python": lambda: _ms([sys.executable, "-c", "pass"]),
    }
    interleaved(contenders, 1)  # warm the file cache
    got = interleaved(contenders, repeats)
    yield "cli_start_ms", figure_text(got["cli"], "ms", 0)
    yield "activity_import_ms", figure_text(got["import"], "ms", 0)
    yield "python_start_ms", figure_text(got["python"], "ms", 0)
