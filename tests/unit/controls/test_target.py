"""A run names its target: the lab and topology, or kubeconfig, contexts, servers."""

from pathlib import Path

import yaml

from chaosext.controls import target
from chaosext.runcontext import LabState, RunContext


def test_the_lab_is_named_with_its_topology_and_servers() -> None:
    """On the lab: topology, folder, private or not, the server per context."""
    run = RunContext(
        lab=LabState(
            topology="guide-000",
            state_dir="/tmp/lab",
            private=True,
            contexts={"cluster-a": "https://127.0.0.1:1", "cluster-b": "https://x"},
        )
    )
    described = target.describe(run, {}, {}, {"cluster-a"})
    assert target.line(described) == (
        "the embedded lab (private), topology guide-000 in /tmp/lab:"
        " cluster-a https://127.0.0.1:1"
    )


def test_a_lab_that_did_not_start_is_named_as_such() -> None:
    """A lab that failed to start is still the target, with the reason."""
    run = RunContext(lab=LabState(topology="mine.yaml", error="no such file"))
    described = target.describe(run, {"kubeconfig": "lab"}, {}, set())
    line = target.line(described)
    assert line == "the embedded lab, topology mine.yaml: no such file"


def test_a_kubeconfig_is_named_with_each_context_and_server(tmp_path: Path) -> None:
    """Real clusters: the kubeconfig file, and each named context's API server."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "a", "cluster": {"server": "https://10.0.0.1"}}],
                "contexts": [{"name": "prod-a", "context": {"cluster": "a"}}],
            }
        )
    )
    described = target.describe(
        RunContext(), {"kubeconfig": str(kubeconfig)}, {}, {"prod-a", "prod-b"}
    )
    assert described["servers"] == {
        "prod-a": "https://10.0.0.1",
        "prod-b": "not in the kubeconfig",
    }
    assert target.line(described).startswith(f"kubeconfig {kubeconfig}: prod-a")
