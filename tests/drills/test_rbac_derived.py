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
from typing import Any

import pytest
from kubernetes import client

from chaosext.gameday import rbac
from chaosext.lab import authz, runtime
from tests.drills import clientfault
from tests.drills.drilling import ROOT, run_drill, topology_variant
from tests.labfixtures import api_client

pytestmark = pytest.mark.slow

FAST = {"propagation": 0.3, "terminate_after": 0.1}
BY_POD_NAME = "cluster_failover.json"
"""Its client is given by pod name (`client_pod: NAME`), the other tiers' by
Deployment (`deploy/NAME`), so both ways of naming an exec target are covered."""
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


def _used(state_dir: Path, skip: int = 0) -> set[Grant]:
    """What the lab recorded in `state_dir`, after its first `skip` requests."""
    return {
        (r["group"], r["resource"] + (f"/{r['subresource']}" * bool(r["subresource"])),
         r["verb"])
        for r in authz.read_requests(state_dir)[skip:]
    }  # fmt: skip


def _client_pod(lab: runtime.LabInfo, config: dict[str, Any]) -> str:
    """The client pod's own name (the drills' default names its Deployment)."""
    api = client.CoreV1Api(api_client(lab, config["client_context"]))
    deployment = config["client_pod"].split("/", 1)[1]
    pods = api.list_namespaced_pod(config["client_namespace"]).items
    return next(
        p.metadata.name for p in pods if p.metadata.name.startswith(f"{deployment}-")
    )


def _client_side_fault(tmp: Path) -> set[Grant]:
    """What the client-side (VirtualService) fault drill uses: no tier does, but
    a game day's own experiment may (tests/drills/clientfault.py)."""
    tmp.mkdir()
    variant = topology_variant(
        "guide-000", tmp, timing=FAST, edit=clientfault.add_sidecar_client
    )
    run = run_drill(
        str(clientfault.write(tmp)), tmp, variables={"lab_topology": str(variant)}
    )
    assert run.code == 0, f"client_delay:\n{run.log[-3000:]}"
    return _used(tmp / "lab")


@pytest.mark.timeout(1800)  # every tier drill, one after another
def test_manifest_rbac_is_exactly_what_the_tier_drills_use(tmp_path: Path) -> None:
    assert len(TIERS) >= 7
    used: set[Grant] = set()
    for experiment in TIERS:
        tmp = tmp_path / experiment.removesuffix(".json")
        tmp.mkdir()
        config = json.loads((ROOT / "experiments" / experiment).read_text())
        topology = config["configuration"]["lab_topology"]
        variant = topology_variant(topology, tmp, timing=FAST)
        variables = {"lab_topology": str(variant)}
        lab, skip = None, 0
        if experiment == BY_POD_NAME:  # exec into a pod named as itself, too
            lab = runtime.start_lab(str(variant), tmp / "lab")
            variables["client_pod"] = _client_pod(lab, config["configuration"])
            skip = len(authz.read_requests(tmp / "lab"))
        try:
            run = run_drill(experiment, tmp, variables=variables)
        finally:
            if lab is not None:
                runtime.stop_lab(lab.state_dir)
        assert run.code == 0, f"{experiment}:\n{run.log[-3000:]}"
        recorded = _used(tmp / "lab", skip)
        assert recorded, f"{experiment}: the lab recorded no request"
        used |= recorded
    used |= _client_side_fault(tmp_path / "client_delay")
    granted = _granted()
    assert used - granted == set(), "the drills use what the manifest does not grant"
    assert granted - used == set(), "the manifest grants what no drill uses"
