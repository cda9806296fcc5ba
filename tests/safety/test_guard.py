"""The blast-radius guard: real clusters need `allowed_contexts`; actions touch only
what they name.

The lab's kubeconfig, given as a path (not `lab`), stands in for a real one: the
guard then treats its contexts as real clusters.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext import runcontext
from chaosext.actions import zone
from chaosext.annotations import RESTORE_KEY
from chaosext.lab import runtime
from chaosext.locality import ZONE
from tests.labfixtures import core, wait_for
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, Finished, chaos_run

pytestmark = pytest.mark.slow


def _drill(lab: runtime.LabInfo, tmp: Path, **configuration: Any) -> Finished:
    """region_outage.json with a var file naming the lab's kubeconfig as a path."""
    var_file = tmp / "vars.yaml"
    settings = {"kubeconfig": str(lab.kubeconfig), **configuration}
    var_file.write_text(yaml.safe_dump({"configuration": settings}))
    return chaos_run(
        EXPERIMENTS / "region_outage.json", tmp, lab, var_files=(var_file,)
    )


@pytest.mark.parametrize(
    ("configuration", "culprit"),
    [
        ({}, "configuration 'allowed_contexts' is not set"),
        (
            {"allowed_contexts": ["cluster-a"]},
            "names context 'cluster-b', which is not in allowed_contexts (cluster-a)",
        ),
        (
            {"allowed_contexts": "cluster-a,cluster-b", "allowed_namespaces": ["x"]},
            "names namespace 'default', which is not in allowed_namespaces (x)",
        ),
    ],
    ids=["no-allowed-contexts", "cluster-b-not-allowed", "namespace-not-allowed"],
)
def test_a_drill_beyond_its_blast_radius_is_refused(
    configuration: dict[str, Any],
    culprit: str,
    shared_lab: runtime.LabInfo,
    tmp_path: Path,
) -> None:
    """Refused before anything runs: non-zero exit, the message names it, no change."""
    wait_for(lambda: labs.settled(shared_lab), 20, "the lab settled")
    before = labs.snapshot(shared_lab)
    done = _drill(shared_lab, tmp_path, **configuration)
    assert done.code != 0
    assert done.notes["phase"] == "refused"
    assert culprit in done.notes["reasons"][0]
    assert culprit in done.output
    assert done.journal["run"] == []
    assert done.journal["rollbacks"] == []
    assert labs.snapshot(shared_lab) == before
    assert TRACEBACK not in done.output


def test_a_drill_within_its_blast_radius_runs(
    shared_lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """Both contexts allowed: the drill runs against the 'real' clusters and passes."""
    before = labs.snapshot(shared_lab)
    done = _drill(shared_lab, tmp_path, allowed_contexts=["cluster-a", "cluster-b"])
    assert done.code == 0, done.output[-3000:]
    assert done.notes["verdict"] == "passed"
    assert "mesh lab" not in done.output  # the lab control stayed out of it
    assert labs.snapshot(shared_lab)["cluster-b"] == before["cluster-b"]
    assert labs.restored(shared_lab)


def _zone_b_twice(data: dict[str, Any]) -> None:
    """cluster-a: two nodes in europe-west1-b; cluster-b: one node labelled so too."""
    a, b = data["clusters"]
    a["nodes"].append({"name": "cluster-a-node-3", "zone": "europe-west1-b"})
    b["nodes"].append({"name": "cluster-b-node-3", "zone": "europe-west1-b"})


@pytest.fixture
def zoned_lab(tmp_path: Path) -> Iterator[runtime.LabInfo]:
    info = labs.start(tmp_path, edit=_zone_b_twice)
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def _nodes(lab: runtime.LabInfo, context: str) -> dict[str, tuple[str, bool, bool]]:
    """name -> (zone, cordoned, has a restore record)."""
    return {
        n.metadata.name: (
            n.metadata.labels[ZONE],
            bool(n.spec.unschedulable),
            RESTORE_KEY in (n.metadata.annotations or {}),
        )
        for n in core(lab, context).list_node().items
    }


def test_a_zone_cordon_touches_only_that_zone_in_that_cluster(
    zoned_lab: runtime.LabInfo,
) -> None:
    """Cordoning europe-west1-b in cluster-a touches its 2 nodes there, nothing else."""
    configuration = runcontext.for_call(
        {
            "kubeconfig": str(zoned_lab.kubeconfig),
            "allowed_contexts": ["cluster-a", "cluster-b"],
        },
        "guard-test",
    )
    before = labs.snapshot(zoned_lab)
    result = zone.cordon_zone(
        "europe-west1-b", context="cluster-a", configuration=configuration
    )
    assert dict(result)["nodes"] == ["cluster-a-node-1", "cluster-a-node-3"]
    assert _nodes(zoned_lab, "cluster-a") == {
        "cluster-a-node-1": ("europe-west1-b", True, True),
        "cluster-a-node-2": ("europe-west1-c", False, False),
        "cluster-a-node-3": ("europe-west1-b", True, True),
    }
    assert labs.snapshot(zoned_lab)["cluster-b"] == before["cluster-b"]

    zone.uncordon_zone(
        "europe-west1-b", context="cluster-a", configuration=configuration
    )
    assert labs.snapshot(zoned_lab) == before
