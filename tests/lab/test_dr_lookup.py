"""The lab picks a DestinationRule as istiod does (`mesh.lookup`), not by host alone."""

from pathlib import Path

import pytest
import yaml

from chaosext.lab import topology
from chaosext.lab.prediction import World
from tests.labfixtures import topology_dict

HOST = "hello-world.default.svc.cluster.local"


def world_with_rule_in(namespace: str, tmp_path: Path, **spec: object) -> World:
    """guide-000 with its DestinationRule moved to `namespace` (made if needed)."""
    data = topology_dict()
    if namespace not in data["namespaces"]:
        data["namespaces"].append(namespace)
    for entry in data["resources"]:
        docs = list(yaml.safe_load_all(entry["manifest"]))
        for doc in docs:
            if doc["kind"] == "DestinationRule":
                doc["metadata"]["namespace"] = namespace
                doc["spec"].update(spec)
        entry["manifest"] = yaml.safe_dump_all(docs)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return World.from_topology(topology.load(str(path)))


def gateway_split(world: World) -> dict[str, float]:
    prediction = world.predict("cluster-a", "istio-ingressgateway", HOST)
    return {k: round(v, 6) for k, v in prediction.by("cluster").items()}


@pytest.mark.parametrize("namespace", ["default", "istio-system"])
def test_rule_in_the_service_or_root_namespace_applies(
    namespace: str, tmp_path: Path
) -> None:
    """The gateway (root namespace) finds the rule in the service's namespace or its
    own: guide 000's 50/50 `distribute`."""
    world = world_with_rule_in(namespace, tmp_path)
    assert gateway_split(world) == {"cluster-a": 0.5, "cluster-b": 0.5}


def test_rule_in_an_unrelated_namespace_does_not_apply(tmp_path: Path) -> None:
    """A rule in neither the proxy's, the service's nor the root namespace is not
    found (before, the lab matched it by host alone)."""
    world = world_with_rule_in("elsewhere", tmp_path)
    prediction = world.predict("cluster-a", "istio-ingressgateway", HOST)
    assert "setting: mesh" in prediction.notes


def test_rule_not_exported_to_the_proxy_does_not_apply(tmp_path: Path) -> None:
    """`exportTo: ["."]` in the service's namespace hides the rule from the gateway."""
    world = world_with_rule_in("default", tmp_path, exportTo=["."])
    prediction = world.predict("cluster-a", "istio-ingressgateway", HOST)
    assert "setting: mesh" in prediction.notes
