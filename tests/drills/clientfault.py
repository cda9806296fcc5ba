"""A drill with the VirtualService (client-side) fault: the tests' own experiment.

No tier ships it (a client-side delay slows every destination alike, so it is no
failover tier), but the safety tests interrupt it mid-run and the RBAC test
derives the VirtualService grants from it. Guide 000 plus a sidecar client pod
in cluster-a: 50/50; a delay on the client's calls to hello-world (both
clusters' answers slow by at least the delay, the share unchanged); cleared
(both fast again).
"""

import json
from pathlib import Path
from typing import Any

CLIENT = "sleep"
DELAY = 0.25


def add_sidecar_client(data: dict[str, Any]) -> None:
    """guide-000 plus a client pod with a sidecar in cluster-a."""
    data["clients"] = [
        {
            "name": CLIENT,
            "namespace": "default",
            "cluster": "cluster-a",
            "zone": "europe-west1-c",
            "proxy": "sidecar",
        }
    ]


def _py(module: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "python", "module": module, "func": func, "arguments": arguments}


SOURCE = {
    "exec": {
        "context": "${cluster_a_context}",
        "namespace": "default",
        "pod": f"deploy/{CLIENT}",
    },
    "url": "hello-world.default.svc.cluster.local/hostname",
    "extractor": "bare",
    "timeout": 2.0,
}
WORKLOAD = {
    "contexts": ["${cluster_a_context}", "${cluster_b_context}"],
    "namespace": "default",
    "selector": "app=hello-world",
}
FIFTY_FIFTY = {"${cluster_a_context}": 0.5, "${cluster_b_context}": 0.5}
BOTH = {
    "${cluster_a_context}": "${fault_delay}",
    "${cluster_b_context}": "${fault_delay}",
}
FAULT = {
    "host": "hello-world",
    "namespace": "default",
    "context": "${cluster_a_context}",
}


def _wait(name: str, bound: str) -> dict[str, Any]:
    return {
        "type": "probe",
        "name": name,
        "provider": _py(
            "probes.waiting",
            "wait_for_split",
            {
                "expected": FIFTY_FIFTY,
                "source": SOURCE,
                "workload": WORKLOAD,
                "tolerance": "${split_tolerance}",
                "batch": "${batch}",
                "consecutive": "${consecutive}",
                "deadline": "${failover_deadline}",
                bound: BOTH,
            },
        ),
    }


def _action(name: str, func: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "action",
        "name": name,
        "provider": _py("chaosext.actions.httpfault", func, arguments),
    }


def experiment() -> dict[str, Any]:
    return {
        "version": "1.0.0",
        "title": "Client-side delay: the callers' proxies hold every request",
        "description": __doc__,
        "tags": ["meshdrill", "test"],
        "configuration": {
            "kubeconfig": {
                "type": "env",
                "key": "MESHDRILL_KUBECONFIG",
                "default": "lab",
            },
            "allowed_contexts": [],
            "allowed_namespaces": [],
            "journals_dir": "",
            "lab_topology": "guide-000",
            "cluster_a_context": "cluster-a",
            "cluster_b_context": "cluster-b",
            "fault_delay": DELAY,
            "split_tolerance": 0.2,
            "batch": 20,
            "consecutive": 2,
            "failover_deadline": 60,
        },
        "controls": [
            {
                "name": "meshdrill",
                "provider": {"type": "python", "module": "chaosext.controls.drill"},
            }
        ],
        "runtime": {"rollbacks": {"strategy": "always"}},
        "steady-state-hypothesis": {
            "title": "both clusters answer the client",
            "probes": [
                {
                    "type": "probe",
                    "name": "traffic-splits-50-50",
                    "tolerance": {
                        "type": "regex",
                        "target": "verdict",
                        "pattern": "^within$",
                    },
                    "provider": _py(
                        "probes.split",
                        "hostname_split",
                        {
                            "expected": FIFTY_FIFTY,
                            "source": SOURCE,
                            "workload": WORKLOAD,
                            "tolerance": "${split_tolerance}",
                            "samples": 40,
                            "max_samples": 200,
                        },
                    ),
                }
            ],
        },
        "method": [
            _action(
                "client-side-delay",
                "inject_http_fault",
                {**FAULT, "status": 0, "delay": "${fault_delay}"},
            ),
            _wait("every-destination-is-slow", "latency_at_least"),
            _action("client-side-delay-removed", "clear_http_fault", FAULT),
            _wait("every-destination-is-fast-again", "latency_below"),
        ],
        "rollbacks": [_action("remove-the-delay", "clear_http_fault", FAULT)],
    }


def write(directory: Path) -> Path:
    """The experiment as a JSON file in `directory`."""
    path = directory / "client_delay.json"
    path.write_text(json.dumps(experiment(), indent=2))
    return path
