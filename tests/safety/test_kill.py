"""kill -9 mid-drill: the run stays on record, and `meshdrill recover` cleans up.

The drill needs a topology other than the running lab's, so it starts a private
lab of its own, scales cluster-a to zero there and is killed while it waits.
The ledger shows the run as unfinished; `meshdrill recover` stops the orphaned
private lab (its changes go with it), removes its folder (token, TLS key) and
records that against the run; `journals list` then shows it recovered.
"""

import json
import signal
from pathlib import Path

import pytest

from chaosext.journals import archive
from chaosext.lab import runtime
from tests.drills.drilling import topology_variant
from tests.labfixtures import wait_for
from tests.safety import labs
from tests.safety.processes import EXPERIMENTS, TRACEBACK, meshdrill, start_drill

pytestmark = pytest.mark.slow

LINGER = {"consecutive": "1000", "failover_deadline": "120"}


def _other_topology(tmp: Path) -> Path:
    """guide-000 (fast) from another file: another topology than the user's lab."""
    directory = tmp / "other"
    directory.mkdir()
    return topology_variant("guide-000", directory)


def _private_lab(home: Path) -> runtime.LabInfo | None:
    for directory in sorted((home / runtime.PRIVATE_LABS).glob("lab-*")):
        info = runtime.running_lab(directory)
        if info is not None:
            return info
    return None


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def test_a_killed_drill_is_on_record_and_recover_cleans_up(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """SIGKILL after the first change: unfinished in the list; recover records it."""
    other = _other_topology(tmp_path)
    home = tmp_path / "home"
    drill = start_drill(
        EXPERIMENTS / "region_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": str(other), **LINGER},
    )
    try:
        private = drill.until(lambda: _private_lab(home), 60, "a private lab")
        drill.until(lambda: labs.held(private), 60, "cluster-a held at zero")
        drill.send(signal.SIGKILL)
        drill.proc.wait(timeout=10)
    finally:
        drill.stop()
    journals = tmp_path / "journals"
    (started,) = archive.entries(journals, None)
    assert started["event"] == "started"
    run_id = started["run_id"]

    listed = meshdrill("journals", "list", tmp=tmp_path, lab=lab)
    assert "unfinished" in listed.output, listed.output

    done = meshdrill(
        "recover", "--kubeconfig", str(lab.kubeconfig), tmp=tmp_path, lab=lab
    )
    assert done.code == 0, done.output
    assert TRACEBACK not in done.output
    assert f"(run {run_id})" in done.output
    recovered = archive.entries(journals, None)[-1]
    assert recovered["event"] == "recovered"
    assert recovered["recovered_runs"] == [run_id]
    record = json.loads((journals / recovered["journal"]).read_text())
    assert record["meshdrill"]["labs_stopped"][0]["run"] == run_id

    listed = meshdrill("journals", "list", tmp=tmp_path, lab=lab)
    assert f"recovered (seq {recovered['seq']})" in listed.output, listed.output
    wait_for(lambda: _gone(private.pid), 10, "the private lab's process gone")
    assert list((home / runtime.PRIVATE_LABS).iterdir()) == []
    assert not private.state_dir.exists()


def test_a_private_lab_leaves_nothing_behind(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """A drill on a private lab that ends normally removes the lab's folder."""
    other = _other_topology(tmp_path)
    drill = start_drill(
        EXPERIMENTS / "region_outage.json",
        tmp_path,
        lab,
        variables={"lab_topology": str(other), "samples": "100"},
    )
    done = drill.wait(timeout=120)
    assert done.code == 0, done.output[-3000:]
    assert done.notes["target"]["private"] is True
    assert list((tmp_path / "home" / runtime.PRIVATE_LABS).iterdir()) == []
