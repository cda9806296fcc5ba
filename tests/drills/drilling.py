"""Run experiments as a user does (`chaos run`), against labs built from variants."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chaosext.lab import topology as lab_topology

ROOT = Path(__file__).resolve().parents[2]
CHAOS = str(Path(sys.executable).with_name("chaos"))

FAST_TIMING = {"ready_after": 0.3, "propagation": 0.3, "terminate_after": 0.1}


@dataclass
class DrillRun:
    code: int
    journal: dict[str, Any]
    log: str

    @property
    def verdict(self) -> dict[str, Any]:
        return dict(self.journal.get("meshdrill") or {})

    def phase(self, name: str) -> dict[str, Any]:
        for phase in self.verdict.get("phases", []):
            if phase["name"] == name:
                return dict(phase)
        raise AssertionError(f"no phase {name!r} in {self.verdict.get('phases')}")


def drill_env(tmp: Path, **extra: str) -> dict[str, str]:
    """An environment like a fresh machine's: empty HOME, no kubeconfig."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHDRILL_")}
    env.pop("KUBECONFIG", None)
    env.update(
        HOME=str(home),
        MESHDRILL_LAB_DIR=str(tmp / "lab"),
        MESHDRILL_JOURNALS_DIR=str(tmp / "journals"),
        **extra,
    )
    return env


def run_drill(
    experiment: str,
    tmp: Path,
    *,
    variables: dict[str, str] | None = None,
    var_files: Sequence[Path] = (),
    env: dict[str, str] | None = None,
    chaos_args: Sequence[str] = (),
    timeout: float = 300,
) -> DrillRun:
    """`chaos run experiments/<experiment>` in `tmp`; returns exit code and journal."""
    journal_path = tmp / f"journal-{Path(experiment).stem}.json"
    argv = [CHAOS, "--log-file", str(tmp / "chaostoolkit.log"), "run"]
    argv += ["--journal-path", str(journal_path), *chaos_args]
    for key, value in (variables or {}).items():
        argv += ["--var", f"{key}={value}"]
    for var_file in var_files:
        argv += ["--var-file", str(var_file)]
    argv.append(str(ROOT / "experiments" / experiment))
    proc = subprocess.run(
        argv,
        cwd=tmp,
        env=env or drill_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    journal = json.loads(journal_path.read_text()) if journal_path.exists() else {}
    return DrillRun(proc.returncode, journal, proc.stdout + proc.stderr)


def topology_variant(
    name: str,
    tmp: Path,
    *,
    timing: dict[str, float] | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A copy of a shipped topology with other timing and/or edited resources.

    `edit` receives the topology as a dict whose `resources[*].manifest` strings
    are replaced by lists of parsed objects; it changes them in place.
    """
    data = yaml.safe_load(lab_topology.resolve(name).read_text())
    data["timing"] = {**data.get("timing", {}), **(timing or FAST_TIMING)}
    for entry in data.get("resources", []):
        entry["manifest"] = [d for d in yaml.safe_load_all(entry["manifest"]) if d]
    if edit is not None:
        edit(data)
    for entry in data.get("resources", []):
        entry["manifest"] = yaml.safe_dump_all(entry["manifest"], sort_keys=False)
    path = tmp / f"{name}-variant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def objects(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Every object of `kind` in a variant's resources (to edit in place)."""
    return [
        obj
        for entry in data.get("resources", [])
        for obj in entry["manifest"]
        if obj.get("kind") == kind
    ]


def assert_lands(counts: dict[str, int], expected: set[str]) -> None:
    """Every expected destination answered, and at most 3% came from elsewhere.

    A batch that straddles the switch may carry a stray answer: the tiers promise
    at most `failover_tolerance` (3%) elsewhere, not none.
    """
    assert expected <= set(counts), counts
    stray = sum(n for dest, n in counts.items() if dest not in expected)
    assert stray <= 0.03 * sum(counts.values()), counts
