"""`chaos discover meshdrill --no-install` as a user runs it lists every activity."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.drills.drilling import CHAOS, ROOT, drill_env

pytestmark = pytest.mark.slow


def _used_activities() -> set[tuple[str, str]]:
    used = set()
    for path in (ROOT / "experiments").glob("*.json"):
        experiment = json.loads(path.read_text())
        for activity in (
            *experiment["steady-state-hypothesis"]["probes"],
            *experiment["method"],
            *experiment["rollbacks"],
        ):
            provider = activity["provider"]
            used.add((provider["module"], provider["func"]))
    return used


def test_chaos_discover_lists_every_activity_with_its_documentation(tmp_path: Path):
    """The distribution name is `meshdrill`; each activity has a docstring, args."""
    out = tmp_path / "discovery.json"
    proc = subprocess.run(
        [CHAOS, "discover", "meshdrill", "--no-install", "--discovery-path", str(out)],
        cwd=tmp_path,
        env=drill_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    discovered = json.loads(out.read_text())
    activities = {(a["mod"], a["name"]): a for a in discovered["activities"]}
    assert _used_activities() <= set(activities)
    for activity in activities.values():
        assert len(activity["doc"].splitlines()) > 3, activity["name"]
        types = {a["name"]: a.get("type") for a in activity["arguments"]}
        # string annotations (`from __future__ import annotations`) would say object
        assert types.get("configuration") == "mapping", (activity["name"], types)
