"""`meshdrill validate FILE...`: check experiments and var files before a run.

`chaos run` reads the experiment before meshdrill loads: a file that is not
JSON ends in a traceback that names neither the file nor the line. This command
reads each file as `chaos run` would and names the file, line and column of a
syntax error; then, for an experiment, runs Chaos Toolkit's own validation and
meshdrill's argument checks (the ones a drill makes before its first change),
and for a var file (YAML or JSON with `configuration`/`secrets`) checks its
shape, and, given `--experiment`, that every key is one the experiment declares.
Nothing is contacted: no cluster, no lab.
"""

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from chaoslib.configuration import load_configuration
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

from chaosext.controls import inputs

__all__ = ["register", "validate_file"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check experiment and var files (file:line:column for a syntax error)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--experiment",
        metavar="FILE",
        help="check var files' configuration keys against this experiment",
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    declared: set[str] | None = None
    if args.experiment:
        loaded, problems = _read(Path(args.experiment))
        if problems or not isinstance(loaded, Mapping):
            for problem in problems or [f"{args.experiment}: not an experiment"]:
                print(f"meshdrill validate: {problem}")
            return 1
        declared = set((loaded.get("configuration") or {}).keys())
    code = 0
    for name in args.files:
        problems = validate_file(Path(name), declared)
        for problem in problems:
            print(f"meshdrill validate: {problem}")
        if problems:
            code = 1
        else:
            print(f"{name}: valid")
    return code


def validate_file(path: Path, declared: set[str] | None = None) -> list[str]:
    """Every problem of one file, each naming the file (and line where known)."""
    data, problems = _read(path)
    if problems:
        return problems
    if isinstance(data, Mapping) and ("method" in data or "title" in data):
        return _experiment_problems(path, data)
    return inputs.var_file_problems(path, declared)


def _read(path: Path) -> tuple[Any, list[str]]:
    """The file's data, or the problem naming file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [f"{path}: cannot be read: {exc.strerror or exc}"]
    except UnicodeDecodeError:
        return None, [f"{path}: not a text file (UTF-8)"]
    if path.suffix == ".json":
        try:
            return json.loads(text), []
        except json.JSONDecodeError as exc:
            return None, [f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]
    try:
        return yaml.safe_load(text), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "bad syntax"
        return None, [f"{path}{where}: not valid YAML: {problem}"]


def _experiment_problems(path: Path, experiment: Mapping[str, Any]) -> list[str]:
    try:
        ensure_experiment_is_valid(dict(experiment))
    except ChaosException as exc:
        return [f"{path}: {exc}"]
    try:
        configuration = load_configuration(dict(experiment.get("configuration") or {}))
    except Exception as exc:  # chaoslib raises several kinds here
        return [f"{path}: configuration: {exc}"]
    found = inputs.problems(dict(experiment), configuration, {}, options={})
    return [f"{path}: {problem}" for problem in found]
