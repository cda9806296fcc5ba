"""The game-day manifest's RBAC grants exactly what the drills do, derived from
the requests the lab recorded while every tier drill ran (issue 15 item 4).

Each tier experiment runs as `chaos run` against its default topology with fast
propagation and stop timing (its pods' readiness delay is the tier's own: the
zone tiers need a replacement pod that is slow to come back). The lab records
each request's verb and resource in `requests.jsonl` in its state directory;
the union over all tiers must equal the rules of the manifest's ClusterRole
(`chaosext.gameday.rbac`), no more and no less: a new verb in an action fails
this test until the manifest grants it, and a grant no drill uses fails it too.
"""

import json
from pathlib import Path

import pytest

from chaosext.gameday import rbac
from chaosext.lab import authz
from tests.drills.drilling import ROOT, run_drill, topology_variant

pytestmark = pytest.mark.slow

FAST = {"propagation": 0.3, "terminate_after": 0.1}
TIERS = sorted(p.name for p in (ROOT / "experiments").glob("*.json"))

Grant = tuple[str, str, str]  # API group, resource[/subresource], verb


def _granted() -> set[Grant]:
    objects = rbac.rbac_objects("meshdrill", "meshdrill", {})
    (role,) = [o for o in objects if o["kind"] == "ClusterRole"]
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _used(state_dir: Path) -> set[Grant]:
    return {
        (r["group"], r["resource"] + (f"/{r['subresource']}" * bool(r["subresource"])),
         r["verb"])
        for r in authz.read_requests(state_dir)
    }  # fmt: skip


@pytest.mark.timeout(1800)  # seven drills, one after another
def test_manifest_rbac_is_exactly_what_the_tier_drills_use(tmp_path: Path) -> None:
    assert len(TIERS) >= 7
    used: set[Grant] = set()
    for experiment in TIERS:
        tmp = tmp_path / experiment.removesuffix(".json")
        tmp.mkdir()
        config = json.loads((ROOT / "experiments" / experiment).read_text())
        topology = config["configuration"]["lab_topology"]
        variant = topology_variant(topology, tmp, timing=FAST)
        run = run_drill(experiment, tmp, variables={"lab_topology": str(variant)})
        assert run.code == 0, f"{experiment}:\n{run.log[-3000:]}"
        recorded = _used(tmp / "lab")
        assert recorded, f"{experiment}: the lab recorded no request"
        used |= recorded
    granted = _granted()
    assert used - granted == set(), "the drills use what the manifest does not grant"
    assert granted - used == set(), "the manifest grants what no drill uses"
