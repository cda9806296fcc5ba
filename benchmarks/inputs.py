"""The up-front input checks: what they add to a drill's start, per experiment.

Every drill checks its var files, `--var` keys and every activity's arguments
before its first change (`chaosext.controls.inputs.problems`). This times that
check for each shipped experiment (its own defaults, as `chaos run` loads them).

    .venv/bin/python benchmarks/inputs.py [--repeats 200]
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from chaoslib.configuration import load_configuration

from chaosext.controls import inputs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    for path in sorted((ROOT / "experiments").glob("*.json")):
        experiment = json.loads(path.read_text())
        configuration = load_configuration(dict(experiment["configuration"]))
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            found = inputs.problems(experiment, configuration, {}, options={})
            times.append(time.perf_counter() - start)
        assert not found, found
        print(
            f"{path.name:28} median {statistics.median(times) * 1000:6.2f} ms"
            f"  max {max(times) * 1000:6.2f} ms  ({args.repeats} runs)"
        )


if __name__ == "__main__":
    main()
