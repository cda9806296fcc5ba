"""`meshdrill lab up|status|kubeconfig|down` as a user runs them (subprocesses)."""

import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from chaosext import cli
from chaosext.lab import runtime
from tests.labfixtures import topology_dict, write_topology

MESHDRILL = str(Path(sys.executable).with_name("meshdrill"))


def meshdrill(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MESHDRILL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.fixture
def topo(tmp_path: Path) -> Path:
    return write_topology(topology_dict(), tmp_path)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "state"
    yield directory
    runtime.stop_lab(directory)


def test_up_status_kubeconfig_down(topo: Path, state_dir: Path) -> None:
    """A detached lab starts, reports itself, gives its kubeconfig, and stops."""
    up = meshdrill("lab", "up", "--detach", "--topology", str(topo),
                   "--state-dir", str(state_dir))  # fmt: skip
    assert up.returncode == 0, up.stderr
    assert f"export KUBECONFIG={state_dir / 'kubeconfig'}" in up.stdout

    status = meshdrill("lab", "status", "--state-dir", str(state_dir))
    assert status.returncode == 0, status.stderr
    expected = ("cluster-a", "cluster-b", "europe-west1-b", "us-central1-a",
                "hello-world", "istio-ingressgateway", "http://127.0.0.1:")  # fmt: skip
    for text in expected:
        assert text in status.stdout

    config = meshdrill("lab", "kubeconfig", "--state-dir", str(state_dir))
    path = Path(config.stdout.splitlines()[-1])
    assert path == state_dir / "kubeconfig"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    contexts = [c["name"] for c in yaml.safe_load(path.read_text())["contexts"]]
    assert contexts == ["cluster-a", "cluster-b"]

    down = meshdrill("lab", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0
    assert not (state_dir / "state.json").exists()
    assert runtime.running_lab(state_dir) is None


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`meshdrill ARGS` in this process: (exit code, stdout, stderr)."""
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_state_dir_from_environment(
    topo: Path,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --state-dir the lab lives in $MESHDRILL_LAB_DIR."""
    monkeypatch.setenv("MESHDRILL_LAB_DIR", str(state_dir))
    assert run_cli(capsys, "lab", "up", "--detach", "--topology", str(topo))[0] == 0
    assert (state_dir / "state.json").exists()
    assert run_cli(capsys, "lab", "down")[0] == 0
    assert not (state_dir / "state.json").exists()


def test_up_twice_same_topology_is_fine(
    topo: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `up` with the same topology says a lab already runs, exit 0."""
    args = ("lab", "up", "--detach", "--topology", str(topo), "--state-dir",
            str(state_dir))  # fmt: skip
    assert run_cli(capsys, *args)[0] == 0
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert "already runs" in out


def test_up_with_another_topology_is_refused(
    topo: Path, state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`up` with a different topology while one runs fails, naming the running one."""
    run_cli(capsys, "lab", "up", "--detach", "--topology", str(topo), "--state-dir",
            str(state_dir))  # fmt: skip
    other = tmp_path / "other"
    other.mkdir()
    data = topology_dict()
    data["name"] = "other"
    path = write_topology(data, other)
    code, _, err = run_cli(capsys, "lab", "up", "--detach", "--topology", str(path),
                           "--state-dir", str(state_dir))  # fmt: skip
    assert code == 1
    assert f"'{topo}' already runs" in err


def test_bad_topology_is_a_usage_error(
    tmp_path: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A topology with a mistake exits 2 with the file, line and field."""
    path = tmp_path / "bad.yaml"
    path.write_text("clusters: []\n")
    code, _, err = run_cli(capsys, "lab", "up", "--detach", "--topology", str(path),
                           "--state-dir", str(state_dir))  # fmt: skip
    assert code == 2
    assert f"{path}:1: clusters: must not be empty" in err


@pytest.mark.parametrize("command", ["status", "kubeconfig"])
def test_no_lab_running(
    state_dir: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """With no lab running, `status` and `kubeconfig` say so and exit 1."""
    code, out, err = run_cli(capsys, "lab", command, "--state-dir", str(state_dir))
    assert code == 1
    assert "no lab runs" in out + err
