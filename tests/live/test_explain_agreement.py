"""`meshdrill mesh explain` on the running lab, through its kubeconfig alone, prints
the same split as `meshdrill lab explain` on the topology file: every shipped
topology, every client (gateways and waypoints too), now and with each zone,
region or cluster down."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext import cli
from chaosext.lab import runtime, topology
from chaosext.lab.explain import default_host
from chaosext.lab.prediction import PredictionError, World
from tests.labfixtures import topology_dict

StartLab = Callable[[str | Path], runtime.LabInfo]


def with_sidecar_client(tmp: Path) -> Path:
    """guide-000 plus a sidecar client in each cluster (its own Envoy chooses)."""
    data = topology_dict()
    data["clients"] = [
        {"name": "sleep", "namespace": "default", "cluster": c, "zone": z,
         "proxy": "sidecar"}
        for c, z in (("cluster-a", "europe-west1-c"), ("cluster-b", "us-central1-a"))
    ]  # fmt: skip
    path = tmp / "sidecar-clients.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def with_eastwest_sidecars(tmp: Path) -> Path:
    """guide-001's waypoint state with its east-west gateways and a sidecar client
    per cluster: sidecars and waypoints reach the other network through them."""
    data = topology_dict("guide-001-waypoint")
    for cluster, zone in zip(
        data["clusters"], ("us-east-1a", "us-west-2a"), strict=True
    ):
        cluster["eastwest"] = zone
    data["clients"] = [
        {"name": "sleep", "namespace": "httpbin", "cluster": c, "zone": z,
         "proxy": "sidecar"}
        for c, z in (("cluster1", "us-east-1b"), ("cluster2", "us-west-2b"))
    ]  # fmt: skip
    path = tmp / "eastwest-sidecars.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def split(data: dict[str, Any]) -> dict[tuple[str, str, str], tuple[float, Any]]:
    """(cluster, region, zone) -> (share, priorities) from explain's JSON."""
    out: dict[tuple[str, str, str], tuple[float, Any]] = {}
    for row in data["endpoints"]:
        key = (row["cluster"], row["region"], row["zone"])
        share, priorities = out.get(key, (0.0, frozenset()))
        out[key] = (share + row["share"], priorities | {row["priority"]})
    return {k: (round(s, 4), p) for k, (s, p) in out.items()}


def host_for(world: World, cluster: str, chooser: str) -> str:
    """lab explain's default host, else the first workload's Service host."""
    try:
        return default_host(world, cluster, chooser)
    except PredictionError:
        workload = world.topology.workloads[0]
        return f"{workload.name}.{workload.namespace}.svc.cluster.local"


def downs(world: World) -> list[str]:
    """No what-if, then each zone, region and cluster of the topology down."""
    topo = world.topology
    return [
        "",
        *(f"cluster={c.name}" for c in topo.clusters),
        *sorted({f"region={c.region}" for c in topo.clusters}),
        *(f"zone={n.zone}" for c in topo.clusters for n in c.nodes),
    ]


@pytest.mark.parametrize(
    "name", [*topology.shipped(), "sidecar-clients", "eastwest-sidecars"]
)
def test_mesh_explain_agrees_with_lab_explain(
    name: str,
    start_lab_from: StartLab,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Same shares and priorities per zone, for every chooser and `--down`."""
    if name == "sidecar-clients":
        name = str(with_sidecar_client(tmp_path))
    elif name == "eastwest-sidecars":
        name = str(with_eastwest_sidecars(tmp_path))
    world = World.from_topology(topology.load(name))
    info = start_lab_from(name)
    compared = 0
    for cluster in world.stores:
        for chooser in world.names(cluster):
            host = host_for(world, cluster, chooser)
            for down in sorted(set(downs(world))):
                extra = ["--down", down] if down else []
                lab = run_json(
                    capsys,
                    ["lab", "explain", "--topology", name, "--cluster", cluster,
                     "--client", chooser, "--host", host, "--json", *extra],
                )  # fmt: skip
                live = run_json(
                    capsys,
                    ["mesh", "explain", "--kubeconfig", str(info.kubeconfig),
                     "--context", cluster, "--client", chooser, "--host", host,
                     "-o", "json", *extra],
                )  # fmt: skip
                assert (live["host"], split(live)) == (lab["host"], split(lab)), (
                    f"{name} {cluster} {chooser} {down or 'now'}"
                )
                assert live["proxy"]["kind"] == lab["proxy"]["kind"]
                compared += 1
    assert compared >= len(downs(world))
