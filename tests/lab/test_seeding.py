"""One seeding for the running lab and `lab explain` (`lab.seed_cluster`)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chaosext.lab import kinds, runtime, topology
from chaosext.lab.prediction import World
from tests.labfixtures import core, topology_dict

StartLab = Callable[[dict[str, Any]], runtime.LabInfo]

EXTRA_NAMESPACES = [
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "default", "labels": {"team": "payments"}},
    },
    {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "extra", "annotations": {"owner": "sre"}},
    },
]


def with_namespaces() -> dict[str, Any]:
    """guide-000 with a Namespace `namespaces:` already makes, and a new one, in
    `resources:`."""
    data = topology_dict()
    data["resources"].append(
        {
            "clusters": ["cluster-a", "cluster-b"],
            "manifest": yaml.safe_dump_all(EXTRA_NAMESPACES),
        }
    )
    return data


def test_namespace_in_resources_works_for_explain(tmp_path: Path) -> None:
    """`World.from_topology` seeds a topology with Namespaces in resources, merging
    one that `namespaces:` made, and predicts from it."""
    path = tmp_path / "ns.yaml"
    path.write_text(yaml.safe_dump(with_namespaces()))
    world = World.from_topology(topology.load(str(path)))
    store = world.stores["cluster-a"]
    default = store.get(kinds.NAMESPACE, "", "default")
    assert default["metadata"]["labels"]["team"] == "payments"
    extra = store.get(kinds.NAMESPACE, "", "extra")
    assert extra["metadata"]["annotations"] == {"owner": "sre"}
    prediction = world.predict(
        "cluster-a", "istio-ingressgateway", "hello-world.default.svc.cluster.local"
    )
    assert round(sum(r.share for r in prediction.rows), 6) == 1.0


def test_namespace_in_resources_works_for_the_running_lab(
    start_lab_from: StartLab,
) -> None:
    """The running lab seeds the same topology the same way."""
    info = start_lab_from(with_namespaces())
    api = core(info, "cluster-a")
    assert api.read_namespace("default").metadata.labels["team"] == "payments"
    assert api.read_namespace("extra").metadata.annotations == {"owner": "sre"}
