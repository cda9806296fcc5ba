"""Topology files: shipped ones load; mistakes name the file, line and field."""

from pathlib import Path

import pytest

from chaosext.lab import topology
from chaosext.lab.topology import TopologyError

GOOD = """\
name: tiny
clusters:
  - name: c1
    region: r1
    nodes:
      - {name: n1, zone: z1}
workloads:
  - name: web
    replicas: {c1: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topo.yaml"
    path.write_text(text)
    return path


def test_guide_000_loads_with_two_regions() -> None:
    """The shipped guide-000 topology has clusters in europe-west1 and us-central1."""
    topo = topology.load("guide-000")
    assert [(c.name, c.region, len(c.zones)) for c in topo.clusters] == [
        ("cluster-a", "europe-west1", 2),
        ("cluster-b", "us-central1", 2),
    ]


def test_guide_000_carries_the_guides_destination_rule_verbatim() -> None:
    """The DestinationRule of guide 000 is shipped as the guide wrote it."""
    topo = topology.load("guide-000")
    rules = [
        obj
        for r in topo.resources
        for obj in r.objects
        if obj["kind"] == "DestinationRule"
    ]
    spec = rules[0]["spec"]
    assert spec["trafficPolicy"]["outlierDetection"] == {
        "consecutive5xxErrors": 1,
        "interval": "1s",
        "baseEjectionTime": "30s",
        "maxEjectionPercent": 100,
    }
    assert spec["trafficPolicy"]["loadBalancer"]["localityLbSetting"]["distribute"] == [
        {"from": "europe-west1", "to": {"europe-west1": 50, "us-central1": 50}},
        {"from": "us-central1", "to": {"us-central1": 50, "europe-west1": 50}},
    ]


def test_a_path_loads_and_defaults_apply(tmp_path: Path) -> None:
    """A topology given by path loads; namespace, labels and timing get defaults."""
    topo = topology.load(str(write(tmp_path, GOOD)))
    workload = topo.workloads[0]
    assert (workload.namespace, dict(workload.labels)) == ("default", {"app": "web"})
    assert topo.timing == topology.Timing()


def test_an_eastwest_gateway_brings_istio_system(tmp_path: Path) -> None:
    """`eastwest: <zone>` names the gateway's zone; istio-system comes with it."""
    text = GOOD.replace("    region: r1\n", "    region: r1\n    eastwest: z1\n")
    topo = topology.load(str(write(tmp_path, text)))
    assert topo.clusters[0].eastwest == "z1"
    assert "istio-system" in [ns.name for ns in topo.namespaces]


def test_unknown_name_lists_shipped_topologies() -> None:
    """An unknown topology name says which ones ship."""
    with pytest.raises(TopologyError, match=r"shipped: .*guide-000"):
        topology.load("no-such-topology")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("    region: r1\n", ""),
            r":3: clusters\[0\]: missing .*'region'",
        ),
        (GOOD + "colour: blue\n", r":10: colour: unknown key .colour. \(known keys"),
        (
            GOOD.replace("{c1: 1}", "{c2: 1}"),
            r":9: workloads\[0\]\.replicas\.c2: unknown cluster 'c2'",
        ),
        (
            GOOD.replace("{c1: 1}", "{c1: two}"),
            r":9: workloads\[0\]\.replicas\.c1: expected an integer",
        ),
        (
            GOOD.replace("name: web", "name: Web_1"),
            r":8: workloads\[0\]\.name: 'Web_1'",
        ),
        (
            GOOD + "timing: {ready_after: -1}\n",
            r":10: timing\.ready_after: must be >= 0",
        ),
        (
            GOOD + "gateways:\n  - {name: gw, cluster: c1, zone: z9, route: "
            "web.default.svc.cluster.local}\n",
            r":11: gateways\[0\]\.zone: zone 'z9' has no node in cluster c1",
        ),
        (
            GOOD.replace("    region: r1\n", "    region: r1\n    eastwest: z9\n"),
            r":5: clusters\[0\]\.eastwest: 'z9' is not a zone of this cluster",
        ),
        (
            GOOD + "gateways:\n  - {name: gw, cluster: c1, zone: z1, route: nope}\n",
            r":11: gateways\[0\]\.route: 'nope' is no workload's host",
        ),
    ],
)
def test_mistakes_name_file_line_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    """Each mistake's message starts with file:line and names the field."""
    path = write(tmp_path, text)
    with pytest.raises(TopologyError, match=str(path).replace(".", r"\.") + expected):
        topology.load(str(path))


def test_manifest_of_an_unserved_kind_is_refused(tmp_path: Path) -> None:
    """A resource the lab does not serve is named with the served kinds."""
    text = GOOD + (
        "resources:\n  - manifest: |\n      apiVersion: v1\n      kind: ConfigMap\n"
        "      metadata: {name: x}\n"
    )
    with pytest.raises(TopologyError, match=r"v1 ConfigMap is not served by the lab"):
        topology.load(str(write(tmp_path, text)))


def test_invalid_destination_rule_is_refused_like_istio(tmp_path: Path) -> None:
    """A DestinationRule istiod would reject (weights not summing to 100) is refused."""
    text = GOOD + (
        "resources:\n  - manifest: |\n"
        "      apiVersion: networking.istio.io/v1\n      kind: DestinationRule\n"
        "      metadata: {name: web}\n"
        "      spec:\n        host: web\n        trafficPolicy:\n"
        "          loadBalancer:\n            localityLbSetting:\n"
        "              distribute:\n              - from: r1\n"
        "                to: {r1: 60}\n"
    )
    with pytest.raises(TopologyError, match=r"DestinationRule web .* is invalid"):
        topology.load(str(write(tmp_path, text)))


def test_malformed_yaml_is_reported_with_its_file(tmp_path: Path) -> None:
    """Broken YAML syntax is reported naming the file."""
    path = write(tmp_path, "clusters: [\n")
    with pytest.raises(TopologyError, match=f"{path}:2: not valid YAML"):
        topology.load(str(path))
