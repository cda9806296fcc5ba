"""zone_outage puts the pods back where they were: the next drill finds the zone.

The weekly game day runs zone_outage, then region_failover, on the same lab.
Without the pods moved back into the drained zone, region_failover's steady
state (the client's own zone answers) fails right after zone_outage.
"""

from collections import Counter
from pathlib import Path

import pytest

from chaosext.lab import runtime
from tests.labfixtures import core
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, chaos_run

pytestmark = pytest.mark.slow

QUICK = {"samples": "100", "max_samples": "400"}


@pytest.fixture
def lab_001(tmp_path: Path):
    info = labs.start(tmp_path, "guide-001-preferclose")
    try:
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def _zones(lab: runtime.LabInfo) -> Counter[str]:
    """Ready in-ambient pods of cluster1 per zone."""
    api = core(lab, "cluster1")
    zones = {
        n.metadata.name: (n.metadata.labels or {}).get("topology.kubernetes.io/zone")
        for n in api.list_node().items
    }
    pods = api.list_namespaced_pod("httpbin", label_selector="app=in-ambient").items
    return Counter(
        zones.get(p.spec.node_name)
        for p in pods
        if not p.metadata.deletion_timestamp and p.spec.node_name
    )


def test_zone_outage_then_region_failover_both_pass(
    lab_001: runtime.LabInfo, tmp_path: Path
) -> None:
    """The game day's zone_outage, then region_failover, on one lab: both pass."""
    before = _zones(lab_001)
    variables = {"lab_topology": lab_001.topology, **QUICK}
    first = chaos_run(
        EXPERIMENTS / "zone_outage.json", tmp_path, lab_001, "zone", variables=variables
    )
    assert first.code == 0, first.notes.get("reasons") or first.output[-3000:]
    uncordon = next(
        r["output"]
        for r in first.journal["run"]
        if r["activity"]["name"] == "uncordon-the-client-zone"
    )
    assert uncordon["returned"], uncordon
    assert _zones(lab_001) == before
    second = chaos_run(
        EXPERIMENTS / "region_failover.json",
        tmp_path,
        lab_001,
        "region",
        variables=variables,
    )
    assert second.code == 0, second.notes.get("reasons") or second.output[-3000:]
    assert second.notes["verdict"] == "passed"
