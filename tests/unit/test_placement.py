"""Pods go back to their zone one at a time, and only when budgets allow it.

A small fake API server (nodes, pods, PodDisruptionBudgets, evictions) stands in
for a cluster that serves PDBs, which the lab does not.
"""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaosext import clusters, placement

ZONE = "topology.kubernetes.io/zone"
SPEC = {"zone": "zone-a", "namespace": "default", "selector": "app=x", "count": 1}


@dataclass
class Cluster:
    """What the fake API server serves, and what was asked of it."""

    pods: list[tuple[str, str, str]] = field(
        default_factory=lambda: [
            ("x-old", "node-b", "2026-11-29T10:00:00Z"),
            ("x-new", "node-b", "2026-11-29T10:05:00Z"),
        ]
    )
    allowed: int | None = 0  # the PDB's disruptionsAllowed; None: no PDB API
    starting: set[str] = field(default_factory=set)  # pods not Ready yet
    evictions: list[tuple[str, int | None]] = field(default_factory=list)

    def pod_list(self) -> dict[str, Any]:
        return {
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {},
            "items": [
                {
                    "metadata": {
                        "name": name,
                        "namespace": "default",
                        "labels": {"app": "x"},
                        "creationTimestamp": created,
                    },
                    "spec": {
                        "nodeName": node,
                        "containers": [{"name": "c", "image": "i"}],
                    },
                    "status": {
                        "conditions": [
                            {
                                "type": "Ready",
                                "status": "False" if name in self.starting else "True",
                            }
                        ]
                    },
                }
                for name, node, created in self.pods
            ],
        }

    def evict(self, name: str) -> None:
        self.evictions.append((name, self.allowed))
        self.pods = [p for p in self.pods if p[0] != name]
        self.pods.append((f"{name}-again", "node-a", "2026-11-29T11:00:00Z"))


def _handler(state: Cluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/api/v1/nodes":
                nodes = [("node-a", "zone-a"), ("node-b", "zone-b")]
                items = [
                    {"metadata": {"name": n, "labels": {ZONE: z}}} for n, z in nodes
                ]
                self._send(200, {"kind": "NodeList", "metadata": {}, "items": items})
            elif path == "/api/v1/namespaces/default/pods":
                self._send(200, state.pod_list())
            elif path.endswith("/poddisruptionbudgets") and state.allowed is not None:
                budget = {
                    "metadata": {"name": "x", "namespace": "default"},
                    "spec": {"selector": {"matchLabels": {"app": "x"}}},
                    "status": {
                        "disruptionsAllowed": state.allowed,
                        "currentHealthy": 2,
                        "desiredHealthy": 1,
                        "expectedPods": 2,
                    },
                }
                self._send(200, {"kind": "List", "metadata": {}, "items": [budget]})
            else:
                self._send(404, {"kind": "Status", "message": f"{path} not found"})

        def do_POST(self) -> None:
            name = self.path.split("/pods/")[1].split("/")[0]
            self.rfile.read(int(self.headers.get("content-length", 0)))
            state.evict(name)
            self._send(201, {"kind": "Status", "status": "Success"})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[Cluster, Path]]:
    state = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "fake",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "fake", "user": {"token": "t"}}],
                "contexts": [
                    {"name": "fake", "context": {"cluster": "fake", "user": "fake"}}
                ],
            }
        )
    )
    try:
        yield state, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


def test_a_budget_that_allows_no_disruption_holds_the_move(
    fake: tuple[Cluster, Path],
) -> None:
    """No eviction while the PDB allows none; then the newest pod moves, once."""
    state, kubeconfig = fake
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        state.allowed = 1  # the budget recovers while we wait

    with clusters.connect("fake", {"kubeconfig": str(kubeconfig)}) as cluster:
        moved = placement.return_pods(cluster, SPEC, sleep=sleep)
    assert moved == ["x-new"]
    assert state.evictions == [("x-new", 1)]
    assert waits, "it waited for the budget before evicting"


def test_no_pdb_api_means_no_budget(fake: tuple[Cluster, Path]) -> None:
    """A cluster that does not serve PDBs (404) moves the pod straight away."""
    state, kubeconfig = fake
    state.allowed = None
    with clusters.connect("fake", {"kubeconfig": str(kubeconfig)}) as cluster:
        moved = placement.return_pods(cluster, SPEC, sleep=lambda _: None)
    assert moved == ["x-new"]
    assert state.evictions == [("x-new", None)]


def test_a_zone_that_has_its_pods_moves_nothing(fake: tuple[Cluster, Path]) -> None:
    """Already as many pods in the zone as recorded: nothing is evicted."""
    state, kubeconfig = fake
    state.pods.append(("x-home", "node-a", "2026-11-29T09:00:00Z"))
    with clusters.connect("fake", {"kubeconfig": str(kubeconfig)}) as cluster:
        assert placement.return_pods(cluster, SPEC, sleep=lambda _: None) == []
    assert state.evictions == []


def test_a_pod_still_starting_elsewhere_moves_first_without_waiting(
    fake: tuple[Cluster, Path],
) -> None:
    """The drained pod's replacement, not ready yet in another zone, serves
    nothing: it is moved at once (the Eviction API judges the budget), not waited
    for until ready and then evicted; the ready pod stays."""
    state, kubeconfig = fake
    state.starting = {"x-new"}
    waits: list[float] = []
    with clusters.connect("fake", {"kubeconfig": str(kubeconfig)}) as cluster:
        moved = placement.return_pods(cluster, SPEC, sleep=waits.append)
    assert moved == ["x-new"]
    assert state.evictions == [("x-new", 0)]
    assert waits == []


def test_a_ready_pod_still_waits_for_every_pod_to_be_ready(
    fake: tuple[Cluster, Path],
) -> None:
    """A pod in the zone still starting holds the move of a ready pod elsewhere
    until it is ready (the workload settles first)."""
    state, kubeconfig = fake
    spec = {**SPEC, "count": 2}
    state.allowed = 1
    state.pods.append(("x-home", "node-a", "2026-11-29T09:00:00Z"))
    state.starting = {"x-home"}
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        state.starting = set()  # x-home becomes ready while we wait

    with clusters.connect("fake", {"kubeconfig": str(kubeconfig)}) as cluster:
        moved = placement.return_pods(cluster, spec, sleep=sleep)
    assert moved == ["x-new"]
    assert waits, "it waited for the starting pod before evicting a ready one"
