"""`chaos run --dry=actions`: the plan names every change, and nothing changes."""

from pathlib import Path

import pytest

from chaosext.journals import archive
from chaosext.lab import runtime
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, chaos_run

pytestmark = pytest.mark.slow


def test_a_dry_region_outage_plans_the_scale_and_changes_nothing(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """Dry run: exit 0, verdict dry-run, plan 2 -> 0 in cluster-a, lab untouched."""
    before = labs.snapshot(lab)
    done = chaos_run(
        EXPERIMENTS / "region_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": lab.topology},
        options=("--dry", "actions"),
    )
    assert done.code == 0, done.output[-3000:]
    assert done.notes["verdict"] == "dry-run"
    assert done.notes["dry_run"] == "actions"
    plans = {p["action"]: p["plan"] for p in done.notes["plan"]}
    scale = plans["scale-cluster-a-to-zero"]
    assert scale["dry_run"] is True
    assert (scale["context"], scale["server"]) == (
        "cluster-a",
        lab.clusters["cluster-a"],
    )
    assert scale["changes"] == ["deployment default/hello-world: replicas 2 -> 0"]
    assert plans["scale-cluster-a-back"]["changes"] == []
    assert labs.snapshot(lab) == before
    assert TRACEBACK not in done.output
    assert "meshdrill verdict: dry-run" in done.output
    assert "verdict: passed" not in done.output
    (entry,) = archive.entries(tmp_path / "journals", None)  # no start line
    assert entry["verdict"] == "dry-run"
