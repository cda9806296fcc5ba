"""Optional: the drills against real clusters, through your var file.

Skipped unless `MESHDRILL_REAL_VAR_FILE` names a var file (like
experiments/config/example-guide-000.yaml) for `MESHDRILL_REAL_EXPERIMENT`
(default `region_outage.json`). By default only safe runs happen: a dry run
(`--dry=actions`: reads everything, changes nothing) and the steady-state checks.
Set `MESHDRILL_REAL_DRILL=1` to run the drill itself (it changes your clusters,
and restores them).

    MESHDRILL_REAL_VAR_FILE=prod-000.yaml pytest -m cluster tests/cluster
"""

import os
from pathlib import Path

import pytest

from tests.drills.drilling import run_drill

VAR_FILE = os.environ.get("MESHDRILL_REAL_VAR_FILE", "")
EXPERIMENT = os.environ.get("MESHDRILL_REAL_EXPERIMENT", "region_outage.json")

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(not VAR_FILE, reason="MESHDRILL_REAL_VAR_FILE is not set"),
]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MESHDRILL_JOURNALS_DIR"] = str(tmp_path / "journals")
    return env


def test_a_dry_run_plans_the_fault_and_changes_nothing(tmp_path: Path):
    """--dry=actions: every action says what it would change, where."""
    run = run_drill(
        EXPERIMENT,
        tmp_path,
        var_files=[Path(VAR_FILE).resolve()],
        env=_env(tmp_path),
        chaos_args=["--dry=actions"],
    )
    assert run.code == 0, run.log[-3000:]
    assert run.verdict["verdict"] == "dry-run"
    plans = [p["plan"] for p in run.verdict["plan"]]
    assert all(isinstance(p, dict) and p.get("dry_run") for p in plans), plans
    # Nothing was changed, so the restore control found nothing to put back.
    assert run.verdict["restore"]["restored"] == []


def test_the_steady_state_holds(tmp_path: Path):
    """The hypothesis alone (before-method-only, with dry actions)."""
    run = run_drill(
        EXPERIMENT,
        tmp_path,
        var_files=[Path(VAR_FILE).resolve()],
        env=_env(tmp_path),
        chaos_args=["--dry=actions", "--hypothesis-strategy", "before-method-only"],
    )
    before = [p for p in run.verdict["phases"] if p["name"].startswith("before:")]
    assert before, run.log[-3000:]
    assert all(p["verdict"] == "within" for p in before), before


@pytest.mark.skipif(
    os.environ.get("MESHDRILL_REAL_DRILL") != "1",
    reason="MESHDRILL_REAL_DRILL=1 runs the drill itself against your clusters",
)
def test_the_drill_passes(tmp_path: Path):
    """The whole drill, for real: exit 0 and a passed verdict."""
    run = run_drill(
        EXPERIMENT, tmp_path, var_files=[Path(VAR_FILE).resolve()], env=_env(tmp_path)
    )
    assert run.code == 0, run.log[-3000:]
    assert run.verdict["verdict"] == "passed"
