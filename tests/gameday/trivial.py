"""Tiny real Chaos Toolkit experiments and game-day files, no lab needed.

A "marker" directory stands for the system under test: the steady state is "the
marker exists". `passing` only looks at it; `deviating` removes it in its method
(the after-check fails: deviated, `chaos run` exits 1) and its rollback puts it
back; `blocking` signals that its method started, then blocks until stopped, and
its rollback (strategy always) leaves a `restored` file.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

HELPER_MODULE = "gameday_helpers"
HELPER = '''
import pathlib
import signal
import time


def block(started: str, seconds: float = 60.0) -> bool:
    """Say the method started, then block (until a signal ends the run)."""
    pathlib.Path(started).touch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def stubborn(started: str, seconds: float = 60.0) -> bool:
    """Like block, but ignore SIGINT and SIGTERM: a drill that will not stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    return block(started, seconds)
'''


def _exists(marker: Path) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": "marker-exists",
        "tolerance": True,
        "provider": {
            "type": "python",
            "module": "os.path",
            "func": "exists",
            "arguments": {"path": str(marker)},
        },
    }


def _experiment(marker: Path, method: list[dict[str, Any]], **extra: Any) -> dict:
    return {
        "title": "marker survives",
        "description": "a trivial drill for meshdrill's game-day tests",
        "steady-state-hypothesis": {
            "title": "marker exists",
            "probes": [_exists(marker)],
        },
        "method": method,
        **extra,
    }


def _call(name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": "action",
        "name": name,
        "provider": {
            "type": "python",
            "module": module,
            "func": func,
            "arguments": arguments,
        },
    }


def passing(marker: Path) -> dict[str, Any]:
    """Steady state met before and after; exits 0."""
    return _experiment(marker, [_call("look", "os.path", "exists", path=str(marker))])


def deviating(marker: Path) -> dict[str, Any]:
    """Removes the marker: the after-check fails (exit 1); rollback restores it."""
    return _experiment(
        marker,
        [_call("remove-marker", "os", "rmdir", path=str(marker))],
        rollbacks=[_call("restore-marker", "os", "mkdir", path=str(marker))],
    )


def blocking(marker: Path, started: Path, restored: Path) -> dict[str, Any]:
    """Blocks in its method; its rollback (always played) creates `restored`."""
    return _experiment(
        marker,
        [_call("block", HELPER_MODULE, "block", started=str(started))],
        rollbacks=[_call("restore", "os", "mkdir", path=str(restored))],
        runtime={"rollbacks": {"strategy": "always"}},
    )


def stubborn(marker: Path, started: Path) -> dict[str, Any]:
    """Blocks in its method and ignores SIGINT/SIGTERM."""
    return _experiment(
        marker, [_call("stubborn", HELPER_MODULE, "stubborn", started=str(started))]
    )


def write_json(path: Path, document: dict[str, Any]) -> Path:
    """Write `document` as JSON to `path`, return the path."""
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def write_game_day(path: Path, drills: list[dict[str, Any]], **fields: Any) -> Path:
    """A game-day file with sensible defaults for the fields not given."""
    document = {
        "name": "trivial",
        "schedule": "0 6 * * 1",
        "timezone": "UTC",
        "on_failure": "stop",
        "concurrency": "forbid",
        **fields,
        "drills": drills,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def helper_env(directory: Path) -> dict[str, str]:
    """The environment for a subprocess whose drills import the helper module."""
    (directory / f"{HELPER_MODULE}.py").write_text(HELPER, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(directory), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.pop("MESHDRILL_JOURNALS_DIR", None)
    return env


def meshdrill() -> list[str]:
    """The `meshdrill` command of this environment."""
    return [sys.executable, "-m", "chaosext.cli"]
