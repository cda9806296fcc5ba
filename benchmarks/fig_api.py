"""API list latency of the lab at 2 clusters x 2,000 pods (200 with `quick`).

A guide-000 lab (fast timing) gets, in each cluster, a Deployment of that many
pods that serve nothing (role `client`, so no pod server listens: the figure is
the API server's, not the machine's socket count), created through the API and
waited for until every pod is Ready. Then, through the `kubernetes` client
(HTTPS, bearer token; bodies read but not turned into models, so the figure is
the server's and the wire's): list every pod of a cluster, list the Deployment's
pods by label selector, list them as a Table (what `kubectl get pods` asks for),
and list the cluster's Events. Median and p90 over 20 calls (5 with `quick`).

    .venv/bin/python benchmarks/fig_api.py [--quick]
"""

import argparse
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import figures as shared
import yaml
from kubernetes import client, config

from chaosext.lab import runtime, tls, topology

TIMING = {"ready_after": 0.2, "propagation": 0.3, "terminate_after": 0.1}
NAME = "bulk"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def _bulk(replicas: int) -> dict[str, Any]:
    labels = {"app": NAME}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"lab.meshdrill.io/role": "client"},
                },
                "spec": {"containers": [{"name": "idle", "image": "idle:1"}]},
            },
        },
    }


def _wait_ready(api: Any, replicas: int, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        status = api.read_namespaced_deployment(NAME, "default").status
        if (status.ready_replicas or 0) == replicas:
            return time.monotonic() - began
        time.sleep(0.5)
    raise TimeoutError(f"{replicas} pods not ready within {timeout} s")


def _timed(fn: Callable[[], Any], repeats: int) -> str:
    spread = shared.timed(fn, repeats)
    return f"{shared.ms(spread.median)} ms (p90 {shared.ms(spread.p90)} ms)"


def figures(quick: bool) -> Iterator[tuple[str, str]]:
    pods = 200 if quick else 2000
    repeats = 5 if quick else 20
    with tempfile.TemporaryDirectory(prefix="meshdrill-fig-api-") as tmp:
        data = yaml.safe_load(topology.resolve("guide-000").read_text())
        data["timing"] = TIMING
        path = Path(tmp) / "guide-000-fast.yaml"
        path.write_text(yaml.safe_dump(data))
        info = runtime.start_lab(str(path), Path(tmp) / "state", timeout=60)
        try:
            apis = {
                name: config.new_client_from_config(
                    str(info.kubeconfig), context=name, persist_config=False
                )
                for name in info.clusters
            }
            for api in apis.values():
                client.AppsV1Api(api).create_namespaced_deployment(
                    "default", _bulk(pods)
                )
            for name, api in apis.items():
                took = _wait_ready(client.AppsV1Api(api), pods, 600)
                yield f"{name}: {pods} pods Ready after create", f"{took:.1f} s"
            core = client.CoreV1Api(apis["cluster-a"])
            total = len(core.list_pod_for_all_namespaces().items)
            yield "pods in cluster-a", str(total)
            raw = {"_preload_content": False}
            yield (
                "list all pods (JSON)",
                _timed(lambda: core.list_pod_for_all_namespaces(**raw).read(), repeats),
            )
            yield (
                f"list {pods} pods by label (JSON)",
                _timed(
                    lambda: core.list_namespaced_pod(
                        "default", label_selector=f"app={NAME}", **raw
                    ).read(),
                    repeats,
                ),
            )
            context = tls.client_context(info.state_dir / tls.CA_FILE)
            table_request = urllib.request.Request(
                info.clusters["cluster-a"] + "/api/v1/pods",
                headers={"Authorization": f"Bearer {info.token}", "Accept": TABLE},
            )

            def as_table() -> bytes:
                with urllib.request.urlopen(table_request, context=context) as answer:
                    return bytes(answer.read())

            yield "list all pods (Table, as kubectl get)", _timed(as_table, repeats)
            yield (
                "list events (JSON)",
                _timed(
                    lambda: core.list_event_for_all_namespaces(**raw).read(), repeats
                ),
            )
        finally:
            runtime.stop_lab(info.state_dir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pods, 5 calls")
    args = parser.parse_args()
    out = shared.console()
    shared.print_machine(out, "lab API list latency")
    table = shared.table("figure", "value")
    for name, value in figures(args.quick):
        table.add_row(name, value)
        out.print(f"{name}: {value}")
    shared.print_table(out, "lab API at scale", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
