"""After a kill -9: `meshdrill recover` puts back what the drill left; a second
drill on a workload another drill holds is refused, naming the holder."""

import json
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext import runcontext
from chaosext.actions import scale
from chaosext.annotations import RESTORE_KEY, read_record
from chaosext.journals import archive
from chaosext.lab import runtime
from tests.labfixtures import core, wait_for
from tests.safety import labs
from tests.safety.processes import (
    EXPERIMENTS,
    MESHDRILL,
    TRACEBACK,
    Drill,
    chaos_run,
    lab_env,
    meshdrill,
    run,
    start_drill,
)

pytestmark = pytest.mark.slow

LINGER = {"consecutive": "1000", "failover_deadline": "120"}


def _held_by_a_drill(lab: runtime.LabInfo, tmp: Path) -> tuple[Drill, str]:
    """A region-outage drill holding cluster-a at zero; and its run id."""
    variables = {"lab_topology": lab.topology, **LINGER}
    drill = start_drill(
        EXPERIMENTS / "region_outage.json", tmp, lab, name="a", variables=variables
    )
    dep = drill.until(lambda: labs.held(lab), 60, "cluster-a held at zero")
    drill.until(lambda: labs.settled(lab), 20, "cluster-a's pods gone")
    record = read_record(dep.metadata.annotations)
    assert record is not None
    return drill, record.run


def test_recover_after_kill_9_restores_cluster_a(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """kill -9 at zero replicas leaves cluster-a down; recover puts it back."""
    drill, run_id = _held_by_a_drill(lab, tmp_path)
    drill.send(signal.SIGKILL)
    assert drill.wait(timeout=10).code == -signal.SIGKILL
    assert labs.held(lab), "a killed drill cannot restore: cluster-a stays at zero"

    listed = meshdrill("journals", "list", tmp=tmp_path, lab=lab)
    assert "unfinished" in listed.output, listed.output

    done = meshdrill("recover", "--kubeconfig", "lab", tmp=tmp_path, lab=lab)
    assert done.code == 0, done.output
    assert labs.restored(lab)
    for text in ("cluster-a", "deployment default/hello-world", run_id, "restored"):
        assert text in done.output
    assert TRACEBACK not in done.output
    record = archive.entries(tmp_path / "journals", None)[-1]
    assert (record["event"], record["recovered_runs"]) == ("recovered", [run_id])
    listed = meshdrill("journals", "list", tmp=tmp_path, lab=lab)
    assert f"unfinished, recovered (seq {record['seq']})" in listed.output

    # kubectl's default: $KUBECONFIG (nothing left to do now)
    env = {**lab_env(tmp_path, lab), "KUBECONFIG": str(lab.kubeconfig)}
    again = run([MESHDRILL, "recover"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    assert "nothing to recover" in again.stdout


def test_recover_goes_on_past_an_unreachable_cluster(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """cluster-b's API is down: recover restores cluster-a, names cluster-b, exits 1."""
    drill, _ = _held_by_a_drill(lab, tmp_path)
    drill.send(signal.SIGKILL)
    drill.wait(timeout=10)
    config = yaml.safe_load(lab.kubeconfig.read_text())
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        for cluster in config["clusters"]:
            if cluster["name"] == "cluster-b":
                port = closed.getsockname()[1]
                cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
        kubeconfig = tmp_path / "half-down"
        kubeconfig.write_text(yaml.safe_dump(config))
        done = meshdrill("recover", "--kubeconfig", str(kubeconfig), tmp=tmp_path)
    assert done.code == 1, done.output
    assert labs.restored(lab)
    assert "could not check context 'cluster-b'" in done.output
    assert "did not answer" in done.output
    assert TRACEBACK not in done.output


def test_a_malformed_record_is_named_and_the_rest_recovered(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """A hand-edited record on a node: recover names it, restores the rest, exits 1."""
    crashed = runcontext.for_call({"kubeconfig": str(lab.kubeconfig)}, "crashed-run")
    scale.scale_to_zero("hello-world", context="cluster-a", configuration=crashed)
    garbage = {"metadata": {"annotations": {RESTORE_KEY: "{not json"}}}
    core(lab, "cluster-b").patch_node("cluster-b-node-1", garbage)

    done = meshdrill("recover", "--kubeconfig", str(lab.kubeconfig), tmp=tmp_path)
    assert done.code == 1, done.output
    assert labs.restored(lab)
    assert (
        "cannot restore (malformed record): node cluster-b-node-1 in context"
        " 'cluster-b'" in done.output
    )
    assert TRACEBACK not in done.output


def test_a_second_recover_finds_nothing(lab: runtime.LabInfo, tmp_path: Path) -> None:
    """Once recovered, recover again: exit 0, nothing to recover, nothing changed."""
    drill, _ = _held_by_a_drill(lab, tmp_path)
    drill.send(signal.SIGKILL)
    drill.wait(timeout=10)
    kubeconfig = str(lab.kubeconfig)
    assert meshdrill("recover", "--kubeconfig", kubeconfig, tmp=tmp_path).code == 0
    wait_for(lambda: labs.settled(lab), 20, "cluster-a's pods back and ready")
    before = labs.snapshot(lab)

    again = meshdrill("recover", "--kubeconfig", kubeconfig, tmp=tmp_path)
    assert again.code == 0, again.output
    assert "nothing to recover" in again.output
    assert labs.snapshot(lab) == before


def test_recover_dry_run_shows_and_changes_nothing(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """`recover --dry-run --json` lists the held deployment and leaves it at zero."""
    drill, run_id = _held_by_a_drill(lab, tmp_path)
    drill.send(signal.SIGKILL)
    drill.wait(timeout=10)
    before = labs.snapshot(lab)

    kubeconfig = str(lab.kubeconfig)
    done = meshdrill(
        "recover", "--kubeconfig", kubeconfig, "--dry-run", "--json", tmp=tmp_path
    )
    assert done.code == 0, done.output
    result = json.loads(done.output)
    assert result["dry_run"] is True
    assert [
        (c["context"], c["kind"], c["name"], c["prior"], c["run"], c["undone"])
        for c in result["changes"]
    ] == [("cluster-a", "deployment", "hello-world", {"replicas": 2}, run_id, False)]
    assert labs.snapshot(lab) == before
    assert labs.held(lab)


def _scale_only(topology: str) -> dict[str, Any]:
    """A second drill's experiment: scale cluster-a's hello-world to zero, undo it."""
    arguments = {
        "deployment": "hello-world",
        "namespace": "default",
        "context": "cluster-a",
    }

    def action(name: str, func: str) -> dict[str, Any]:
        provider = {
            "type": "python",
            "module": "chaosext.actions.scale",
            "func": func,
            "arguments": arguments,
        }
        return {"type": "action", "name": name, "provider": provider}

    return {
        "version": "1.0.0",
        "title": "A second drill on cluster-a's hello-world",
        "description": "Takes the workload another drill holds.",
        "configuration": {"kubeconfig": "lab", "lab_topology": topology},
        "controls": [
            {
                "name": "meshdrill",
                "provider": {"type": "python", "module": "chaosext.controls.drill"},
            }
        ],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "method": [action("scale-cluster-a-to-zero", "scale_to_zero")],
        "rollbacks": [action("restore-cluster-a-replicas", "restore_replicas")],
    }


def test_a_second_drill_on_a_held_workload_is_refused(
    lab: runtime.LabInfo, tmp_path: Path
) -> None:
    """Drill B on the deployment drill A holds fails naming A; A's record survives."""
    drill, run_a = _held_by_a_drill(lab, tmp_path)
    try:
        record_a = labs.deployment(lab).metadata.annotations[RESTORE_KEY]
        experiment = tmp_path / "second.json"
        experiment.write_text(json.dumps(_scale_only(lab.topology)))

        second = chaos_run(experiment, tmp_path, lab, name="b")
        assert second.code != 0, second.output[-3000:]
        assert second.notes["phase"] == "method: scale-cluster-a-to-zero"
        reason = second.notes["reasons"][0]
        assert "held by another drill" in reason
        assert f"run {run_a}" in reason
        assert "deployment default/hello-world" in reason
        assert second.notes["run_id"] != run_a
        assert labs.deployment(lab).metadata.annotations[RESTORE_KEY] == record_a
        assert labs.held(lab), "drill B must not restore what drill A holds"
        assert TRACEBACK not in second.output
    finally:
        drill.send(signal.SIGINT)
        drill.wait(timeout=15)
    assert labs.restored(lab)
