"""Every benchmark figure in one run: `python benchmarks/run.py [--quick]`.

Collects figures from the modules `benchmarks/fig_*.py`, each exposing
`figures(quick: bool) -> Iterator[tuple[str, str]]` (name, value text), and prints
one `name: value` line per figure as it comes, after the machine's facts and
before the load average at the end. A module that fails prints
`<module>_error: <message>` and the run goes on. Each module starts what it needs
(a private lab in a temporary state directory) and stops it.

    .venv/bin/python benchmarks/run.py --quick          # a few minutes on 2 cores
    .venv/bin/python benchmarks/run.py --only fig_stats  # some modules only

`--quick` takes fewer repeats; the full run takes more, for tighter spreads.
See docs/performance.md for what each figure means.
"""

import argparse
import importlib
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # fig_* modules, and tests.drills for drills

import measuring  # noqa: E402


def modules(only: str) -> list[str]:
    found = sorted(p.stem for p in HERE.glob("fig_*.py"))
    if not only:
        return found
    wanted = [m.strip() for m in only.split(",") if m.strip()]
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise SystemExit(f"--only: unknown module(s) {unknown}; have {found}")
    return wanted


def line(name: str, value: str) -> None:
    print(f"{name}: {value}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default="", help="comma-separated fig_* modules")
    args = parser.parse_args()
    began = time.perf_counter()
    line("machine", f"{platform.platform(terse=True)}, {platform.processor() or '?'}")
    line("cores", str(len(__import__("os").sched_getaffinity(0))))
    line("python", platform.python_version())
    line("mode", "quick" if args.quick else "full")
    line("load_average_start", measuring.load_average())
    for name in modules(args.only):
        started = time.perf_counter()
        try:
            module = importlib.import_module(name)
            for figure, value in module.figures(args.quick):
                line(figure, value)
        except Exception as exc:  # one module's failure must not hide the others
            traceback.print_exc(file=sys.stderr)
            line(f"{name}_error", f"{type(exc).__name__}: {exc}")
        line(f"{name}_seconds", f"{time.perf_counter() - started:.1f}")
    line("load_average_end", measuring.load_average())
    line("run_seconds", f"{time.perf_counter() - began:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
