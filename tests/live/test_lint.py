"""`meshdrill mesh lint`: each finding on lab topologies and their variants."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chaosext import cli
from chaosext.lab import runtime, topology
from chaosext.live import lint, reader
from chaosext.mesh import lint as rules
from tests.drills.drilling import objects, topology_variant
from tests.live.meshstate import state_from

StartLab = Callable[[str], runtime.LabInfo]
TRAFFIC_DISTRIBUTION = "networking.istio.io/traffic-distribution"


def checks(source: str | Path, **kw: Any) -> list[str]:
    return sorted({f.check for f in lint.lint(state_from(source), **kw)})


def variant(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    return topology_variant(name, tmp_path, edit=edit)


def dr(data: dict[str, Any]) -> dict[str, Any]:
    (rule,) = objects(data, "DestinationRule")
    spec: dict[str, Any] = rule["spec"]
    return spec


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("guide-000", []),
        ("guide-001", []),
        ("guide-001-preferclose", []),
        ("guide-001-waypoint", ["failover-priority-order"]),
    ],
)
def test_shipped_topologies(name: str, expected: list[str]) -> None:
    """Guide 001's `[zone, region]` rule is flagged; guide 000's rule is silent."""
    assert checks(name) == expected


def test_guide_001_rule_flagged_with_its_reason_rule_and_fix() -> None:
    """The finding explains itself: the reason, istiod's rule and the fix."""
    (finding, *_) = lint.lint(state_from("guide-001-waypoint"))
    assert "region never decides" in finding.reason.replace(
        "topology.kubernetes.io/", ""
    )
    assert "applyFailoverPriorityPerLocality" in finding.rule
    assert "[topology.kubernetes.io/region, topology.kubernetes.io/zone]" in finding.fix


def test_failover_without_outlier_detection_is_inactive(tmp_path: Path) -> None:
    """guide 001's rule without outlierDetection: failoverPriority does nothing."""

    def edit(data: dict[str, Any]) -> None:
        del dr(data)["trafficPolicy"]["outlierDetection"]

    path = variant(tmp_path, "guide-001-waypoint", edit)
    assert "failover-inactive" in checks(path)


def test_unset_max_ejection_percent_cannot_eject_four_hosts(tmp_path: Path) -> None:
    """guide 000's rule without maxEjectionPercent (10%) ejects nothing of 4 hosts."""

    def edit(data: dict[str, Any]) -> None:
        del dr(data)["trafficPolicy"]["outlierDetection"]["maxEjectionPercent"]

    path = variant(tmp_path, "guide-000", edit)
    assert checks(path) == ["ejection-impossible"]


def test_distribute_that_blackholes_a_region(tmp_path: Path) -> None:
    """A `to` that lists only europe-west1 leaves us-central1's endpoints unused."""

    def edit(data: dict[str, Any]) -> None:
        lb = dr(data)["trafficPolicy"]["loadBalancer"]["localityLbSetting"]
        lb["distribute"][0]["to"] = {"europe-west1": 100}

    path = variant(tmp_path, "guide-000", edit)
    assert checks(path) == ["distribute-blackhole"]


def test_shadowed_from() -> None:
    """A `from` after an earlier one covering it never applies."""
    spec = {
        "trafficPolicy": {
            "loadBalancer": {
                "localityLbSetting": {
                    "distribute": [
                        {"from": "r1/*", "to": {"r1": 100}},
                        {"from": "r1/z1", "to": {"r2": 100}},
                        {"from": "r2/z1", "to": {"r2": 100}},
                        {"from": "*", "to": {"r1": 100}},
                    ]
                }
            }
        }
    }
    found = rules.shadowed_from("dr", spec)
    assert [f.reason.split(" never")[0] for f in found] == ["distribute from 'r1/z1'"]


def test_traffic_distribution_in_one_cluster_only(tmp_path: Path) -> None:
    """PreferClose on cluster1's Service only: flagged, naming both clusters."""

    def edit(data: dict[str, Any]) -> None:
        data["workloads"][0]["service"]["annotations"] = {}
        data.setdefault("resources", []).append(
            {
                "clusters": ["cluster1"],
                "manifest": [
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {
                            "name": "httpbin",
                            "annotations": {TRAFFIC_DISTRIBUTION: "PreferClose"},
                        },
                    }
                ],
            }
        )

    path = variant(tmp_path, "guide-001", edit)
    (finding,) = lint.lint(state_from(path))
    assert finding.check == "traffic-distribution-differs"
    assert "cluster1: PreferClose" in finding.reason
    assert "cluster2: PreferNetwork" in finding.reason


def test_rule_without_waypoint_never_applies(tmp_path: Path) -> None:
    """Without the waypoint label, ambient clients route at L4: ztunnel ignores
    guide 001's DestinationRule."""

    def edit(data: dict[str, Any]) -> None:
        del data["namespaces"][0]["labels"]["istio.io/use-waypoint"]

    path = variant(tmp_path, "guide-001-waypoint", edit)
    assert "destination-rule-unused" in checks(path)


def test_rule_in_another_namespace_does_not_reach_the_client(
    tmp_path: Path, start_lab_from: StartLab
) -> None:
    """A sidecar client in `default`, the rule in `elsewhere`: not found by istiod
    (read from the running lab: explain's topology pods have no client pods)."""

    def edit(data: dict[str, Any]) -> None:
        data["namespaces"].append("elsewhere")
        data["clients"] = [
            {"name": "sleep", "namespace": "default", "cluster": "cluster-a",
             "zone": "europe-west1-b", "proxy": "sidecar"}
        ]  # fmt: skip
        (rule,) = objects(data, "DestinationRule")
        rule["metadata"]["namespace"] = "elsewhere"

    info = start_lab_from(str(variant(tmp_path, "guide-000", edit)))
    found = lint.lint(
        reader.read_mesh(info.kubeconfig),
        client="sleep",
        host="hello-world.default.svc.cluster.local",
    )
    assert [f.check for f in found] == ["destination-rule-unreached"]
    assert "elsewhere/hello-world" in found[0].reason


def test_cli_on_the_running_lab_exits_1_with_findings(
    start_lab_from: StartLab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the lab's kubeconfig: guide 001's rule flagged (exit 1, JSON)."""
    info = start_lab_from("guide-001-waypoint")
    code = cli.main(
        ["mesh", "lint", "--kubeconfig", str(info.kubeconfig), "-o", "json"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert '"failover-priority-order"' in out


def test_cli_is_silent_on_guide_000(
    start_lab_from: StartLab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Guide 000's rule passes: exit 0."""
    info = start_lab_from("guide-000")
    assert cli.main(["mesh", "lint", "--kubeconfig", str(info.kubeconfig)]) == 0
    assert "no findings" in capsys.readouterr().out


def test_shipped_names_are_the_ones_tested() -> None:
    """Every shipped topology is in `test_shipped_topologies`."""
    assert sorted(topology.shipped()) == [
        "guide-000",
        "guide-001",
        "guide-001-preferclose",
        "guide-001-waypoint",
    ]
