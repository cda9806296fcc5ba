"""kubectl habits: `lab status -o json|yaml`; `lab kubeconfig` prints the path alone."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from chaosext.lab import runtime
from tests.labfixtures import topology_dict, write_topology

BIN = Path(sys.executable).parent


def meshdrill(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "meshdrill"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One detached lab for the module; its state directory."""
    base = tmp_path_factory.mktemp("lab-output")
    state = base / "state"
    topo = write_topology(topology_dict(), base)
    up = meshdrill("lab", "up", "--detach", "--topology", str(topo),
                   "--state-dir", str(state))  # fmt: skip
    assert up.returncode == 0, up.stderr
    yield state
    runtime.stop_lab(state)


def test_kubeconfig_prints_the_path_alone(lab: Path) -> None:
    """stdout is exactly the path and a newline; the comment is on stderr."""
    done = meshdrill("lab", "kubeconfig", "--state-dir", str(lab))
    assert done.returncode == 0
    assert done.stdout == f"{lab / 'kubeconfig'}\n"
    assert "contexts: cluster-a, cluster-b" in done.stderr


def test_kubeconfig_in_command_substitution(lab: Path) -> None:
    """`KUBECONFIG=$(meshdrill lab kubeconfig)` gives a kubeconfig clients can load."""
    script = (
        f'export PATH="{BIN}:$PATH"; '
        f'KUBECONFIG=$(meshdrill lab kubeconfig --state-dir "{lab}") && '
        "export KUBECONFIG && python -c 'import kubernetes.config as c; "
        'print(" ".join(x["name"] for x in c.list_kube_config_contexts()[0]))\''
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cluster-a", "cluster-b"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_status_output_describes_the_clusters(lab: Path, fmt: str) -> None:
    """`lab status -o json|yaml`: clusters with API, nodes, workloads, gateways."""
    done = meshdrill("lab", "status", "--state-dir", str(lab), "-o", fmt)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout) if fmt == "json" else yaml.safe_load(done.stdout)
    assert data["kubeconfig"] == str(lab / "kubeconfig")
    clusters = {c["name"]: c for c in data["clusters"]}
    assert sorted(clusters) == ["cluster-a", "cluster-b"]
    a = clusters["cluster-a"]
    assert a["api"].startswith("https://127.0.0.1:")
    assert {n["zone"] for n in a["nodes"]} >= {"europe-west1-b"}
    assert all(n["schedulable"] for n in a["nodes"])
    (hello,) = [w for w in a["workloads"] if w["deployment"] == "hello-world"]
    assert hello["replicas"] == sum(hello["pods_by_zone"].values())
    assert a["gateways"][0]["url"].startswith("http://127.0.0.1:")


def test_status_without_a_lab_prints_nothing_on_stdout(tmp_path: Path) -> None:
    """No lab: exit 1, the hint on stderr, stdout empty (a pipe gets no garbage)."""
    done = meshdrill("lab", "status", "--state-dir", str(tmp_path), "-o", "json")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "no lab runs" in done.stderr
