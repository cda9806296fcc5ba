"""Stock chaostoolkit-kubernetes activities against a two-cluster lab, run by
`chaos run` as a user runs them: the context comes from the provider's secrets
(cluster-a) or from KUBERNETES_CONTEXT in the environment (cluster-b), with
KUBECONFIG naming the lab's kubeconfig, as chaosk8s reads them."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chaosext.lab import runtime
from tests.labfixtures import core, topology_dict, wait_for, write_topology

CHAOS = str(Path(sys.executable).with_name("chaos"))
DEPLOY = {"name": "hello-world", "ns": "default"}
PODS = {"label_selector": "app=hello-world", "ns": "default"}


def _activity(
    name: str, module: str, func: str, arguments: dict[str, Any], on_a: bool = True
) -> dict[str, Any]:
    kind = "probe" if module.endswith("probes") else "action"
    provider: dict[str, Any] = {
        "type": "python",
        "module": f"chaosk8s.{module}",
        "func": func,
        "arguments": arguments,
    }
    if on_a:
        provider["secrets"] = ["cluster-a"]
    return {"type": kind, "name": name, "provider": provider}


def _experiment(drained: str) -> dict[str, Any]:
    steady = [
        _activity("healthy-b", "deployment.probes", "deployment_available_and_healthy",
                  DEPLOY, on_a=False),
        _activity("healthy-a", "deployment.probes", "deployment_available_and_healthy",
                  DEPLOY),
        _activity("running-a", "pod.probes", "pods_in_phase", PODS),
    ]  # fmt: skip
    for probe in steady:
        probe["tolerance"] = True
    return {
        "title": "chaostoolkit-kubernetes against the meshdrill lab",
        "description": "every stock activity meshdrill's users reach for",
        "secrets": {"cluster-a": {"KUBERNETES_CONTEXT": "cluster-a"}},
        "steady-state-hypothesis": {"title": "hello-world serves", "probes": steady},
        "method": [
            _activity(
                "scale-up",
                "deployment.actions",
                "scale_deployment",
                DEPLOY | {"replicas": 3},
            ),
            _activity(
                "scaled",
                "deployment.probes",
                "deployment_fully_available",
                DEPLOY | {"timeout": 20},
            ),
            _activity(
                "cordon", "node.actions", "cordon_node", {"name": "cluster-a-node-2"}
            ),
            _activity(
                "uncordon",
                "node.actions",
                "uncordon_node",
                {"name": "cluster-a-node-2"},
            ),
            _activity(
                "drain", "node.actions", "drain_nodes", {"name": drained, "timeout": 60}
            ),
            _activity("undrain", "node.actions", "uncordon_node", {"name": drained}),
            # after the drain, not before: drain_nodes lists the node's pods, then
            # evicts each, and fails on a 404 where kubectl drain does not. A pod
            # terminated just before (gone in the lab's 0.2 s, or as soon as its
            # process exits on a real cluster) can vanish in between.
            _activity("terminate", "pod.actions", "terminate_pods", PODS | {"qty": 1}),
            _activity(
                "scale-down",
                "deployment.actions",
                "scale_deployment",
                DEPLOY | {"replicas": 2},
            ),
            _activity(
                "back",
                "deployment.probes",
                "deployment_fully_available",
                DEPLOY | {"timeout": 20},
            ),
            _activity(
                "events",
                "event.probes",
                "get_events",
                {"field_selector": "regarding.kind=Pod", "limit": 1000},
            ),
            _activity("events-b", "event.probes", "get_events", {}, on_a=False),
        ],
    }  # fmt: skip


def test_chaostoolkit_kubernetes_activities_pass(tmp_path: Path) -> None:
    path = write_topology(topology_dict(), tmp_path)
    lab = runtime.start_lab(str(path), tmp_path / "state")
    try:
        pods = core(lab).list_namespaced_pod(
            "default", label_selector="app=hello-world"
        )
        drained = pods.items[0].spec.node_name
        experiment = tmp_path / "experiment.json"
        experiment.write_text(json.dumps(_experiment(drained)))
        journal_path = tmp_path / "journal.json"
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("proxy")}
        env.update(
            HOME=str(tmp_path),
            KUBECONFIG=str(lab.kubeconfig),
            KUBERNETES_CONTEXT="cluster-b",
        )
        proc = subprocess.run(
            [CHAOS, "--log-file", str(tmp_path / "chaos.log"), "run",
             "--journal-path", str(journal_path), str(experiment)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        journal = json.loads(journal_path.read_text())
        failed = [
            (r["activity"]["name"], r.get("exception"))
            for r in journal["run"]
            if r["status"] != "succeeded"
        ]
        assert (journal["status"], failed) == ("completed", []), proc.stdout[-3000:]
        assert journal["steady_states"]["after"]["steady_state_met"] is True
        outputs = {r["activity"]["name"]: r["output"] for r in journal["run"]}
        assert outputs["drain"] == [drained]
        reasons = {e["reason"] for e in outputs["events"]["items"]}
        assert {"Scheduled", "Killing", "Started"} <= reasons
        assert {e["regarding"]["kind"] for e in outputs["events"]["items"]} == {"Pod"}
        evicted = [
            e for e in outputs["events"]["items"]
            if e["reason"] == "Killing" and e["deprecatedSource"]["host"] == drained
        ]  # fmt: skip
        assert evicted, "no pod was stopped on the drained node"
        assert outputs["events-b"]["kind"] == "EventList"
        assert {e["reportingController"] for e in outputs["events-b"]["items"]} >= {
            "default-scheduler",
            "kubelet",
        }
        wait_for(lambda: not core(lab).read_node(drained).spec.unschedulable, 5)
    finally:
        runtime.stop_lab(lab.state_dir)
