"""The private lab of a drill that is gone is found and removed."""

import json
import subprocess
from pathlib import Path

import pytest

from chaosext.cli import main
from chaosext.lab import runtime


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MESHDRILL_LAB_DIR", str(tmp_path / "lab"))
    return tmp_path


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_lab_down_all_removes_the_private_labs_of_dead_drills(home: Path) -> None:
    """An orphan's folder (token, keys) goes; a live drill's lab stays."""
    orphan = runtime.make_private_dir(_dead_pid(), "run-dead")
    (orphan / "kubeconfig").write_text("token: secret\n")
    alive = runtime.make_private_dir(1, "run-alive")  # pid 1 always runs
    assert main(["lab", "down", "--all"]) == 0
    assert not orphan.exists()
    assert alive.exists()
    owner = json.loads((alive / runtime.OWNER_FILE).read_text())
    assert owner["run_id"] == "run-alive"


def test_orphans_are_reported_with_their_run(home: Path) -> None:
    """remove_orphans names each folder and the run that started it."""
    orphan = runtime.make_private_dir(_dead_pid(), "run-dead")
    assert runtime.remove_orphans() == [(orphan, "run-dead")]
    assert runtime.remove_orphans() == []
