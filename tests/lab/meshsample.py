"""Helpers for the client-proxy and guide-001 tests: labs, exec sampling, agreement.

Sampling goes the guides' way: one exec into the client pod running a `sh` loop of
separate `curl`s (so every request is a new connection, as in the guides). Answers
are mapped to `cluster/zone` through the lab's API, and compared with `explain`'s
prediction by a chi-square test at 99% (`tests.chisquare.chi_square_agrees`).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from kubernetes import client
from kubernetes.stream import stream

from chaosext.lab import runtime, topology
from chaosext.lab.cli import api_get
from chaosext.lab.prediction import Prediction, Selector, World
from tests.chisquare import chi_square_agrees
from tests.labfixtures import api_client, topology_dict, wait_for, write_topology

ZONE = "topology.kubernetes.io/zone"
ERROR = "error"
SEED = 7  # the lab's RNG seed: stochastic splits replay the same way every run


@contextmanager
def running_lab(
    name: str, directory: Path, edit: Callable[[dict[str, Any]], None] | None = None
) -> Iterator[runtime.LabInfo]:
    """A detached lab of shipped topology `name` (fast timing, fixed seed), every
    Deployment ready; stopped on exit."""
    data = topology_dict(name)
    data["seed"] = SEED
    if edit is not None:
        edit(data)
    path = write_topology(data, directory)
    info = runtime.start_lab(str(path), directory / "state", timeout=30.0)
    try:
        wait_for(lambda: all_ready(info), 15, f"{name} pods ready")
        yield info
    finally:
        runtime.stop_lab(info.state_dir)


def items(info: runtime.LabInfo, context: str, path: str) -> list[dict[str, Any]]:
    """The items of a list from one lab cluster's API, as JSON."""
    found: list[dict[str, Any]] = api_get(info, info.clusters[context], path)["items"]
    return found


def all_ready(info: runtime.LabInfo) -> bool:
    return all(
        (d.get("status") or {}).get("readyReplicas", 0) == d["spec"]["replicas"]
        for context in info.clusters
        for d in items(info, context, "/apis/apps/v1/deployments")
    )


def world_of(info: runtime.LabInfo) -> World:
    """The prediction world of the topology file the lab runs (not its live state)."""
    return World.from_topology(topology.load(info.topology))


def pod_names(info: runtime.LabInfo, context: str, app: str, ns: str) -> list[str]:
    """Running pods labelled app=`app` in one namespace of one cluster."""
    path = f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{app}"
    return sorted(
        p["metadata"]["name"]
        for p in items(info, context, path)
        if (p.get("status") or {}).get("phase") == "Running"
    )


def client_pod(info: runtime.LabInfo, context: str, app: str, ns: str) -> str:
    running = pod_names(info, context, app, ns)
    assert running, f"no running {app} pod in {context}"
    return running[0]


def exec_in(
    info: runtime.LabInfo, context: str, ns: str, pod: str, script: str
) -> tuple[str, str, int]:
    """Run `sh -c script` in a client pod: (stdout, stderr, exit code)."""
    with api_client(info, context) as api:
        ws = stream(
            client.CoreV1Api(api).connect_get_namespaced_pod_exec,
            pod,
            ns,
            command=["sh", "-c", script],
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            _preload_content=False,
        )
        ws.run_forever(timeout=60)
        return ws.read_stdout(), ws.read_stderr(), int(ws.returncode)


def sample_exec(
    info: runtime.LabInfo,
    context: str,
    url: str,
    count: int,
    app: str = "client-in-ambient",
    ns: str = "httpbin",
) -> Counter[str]:
    """Answers (pod names; `error` for anything else) of `count` separate curls."""
    pod = client_pod(info, context, app, ns)
    script = (
        f"for i in $(seq 1 {count}); do curl -s -m 5 -w ' %{{http_code}}\\n' {url}; "
        "done"
    )
    out, _, _ = exec_in(info, context, ns, pod, script)
    seen: Counter[str] = Counter()
    for line in out.splitlines():
        body, _, code = line.rpartition(" ")
        seen[body if code == "200" and body else ERROR] += 1
    seen[ERROR] += count - sum(seen.values())
    return +seen


def sample_http(url: str, count: int) -> Counter[str]:
    """Pod names answered by `count` requests to a gateway URL."""
    seen: Counter[str] = Counter()
    with requests.Session() as session:
        for _ in range(count):
            response = session.get(url, timeout=10)
            seen[response.text if response.ok else ERROR] += 1
    return seen


def zones_of_pods(info: runtime.LabInfo) -> dict[str, str]:
    """Pod name -> `cluster/zone`, for every scheduled pod of every cluster."""
    out = {}
    for context in info.clusters:
        zone = {
            n["metadata"]["name"]: n["metadata"]["labels"][ZONE]
            for n in items(info, context, "/api/v1/nodes")
        }
        for pod in items(info, context, "/api/v1/pods"):
            node = pod["spec"].get("nodeName")
            if node:
                out[pod["metadata"]["name"]] = f"{context}/{zone[node]}"
    return out


def by_zone(info: runtime.LabInfo, seen: Counter[str]) -> Counter[str]:
    where = zones_of_pods(info)
    out: Counter[str] = Counter()
    for name, count in seen.items():
        out[where.get(name, ERROR)] += count
    return out


def expected_by_zone(prediction: Prediction) -> dict[str, float]:
    """Predicted share per `cluster/zone` (zones with no share included, as 0)."""
    out: dict[str, float] = {}
    for row in prediction.rows:
        key = f"{row.cluster}/{row.zone}"
        out[key] = out.get(key, 0.0) + row.share
    return out


def predicted(
    info: runtime.LabInfo,
    cluster: str,
    name: str,
    host: str,
    *,
    down: tuple[str, ...] = (),
    traffic_distribution: str | None = None,
) -> dict[str, float]:
    """explain's prediction for the lab's topology file, by `cluster/zone`."""
    prediction = world_of(info).predict(
        cluster,
        name,
        host,
        down=[Selector.parse(s) for s in down],
        traffic_distribution=traffic_distribution,
    )
    return expected_by_zone(prediction)


def agrees(observed: Counter[str], expected: dict[str, float]) -> bool:
    """The chi-square test at 99% does not reject the prediction."""
    return chi_square_agrees(dict(observed), expected, alpha=0.01)


def converged(sample: Callable[[], Counter[str]], expected: dict[str, float]) -> bool:
    """A small batch lands only where the prediction sends traffic."""
    return set(sample()) <= {k for k, share in expected.items() if share > 0}
