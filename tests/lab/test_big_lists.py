"""Lists of more than 1,000 pods, as a big cluster serves them: kubectl, the
`kubernetes` client and meshdrill's own readers page (`limit`, `continue`) and
see every pod; Tables page; the Endpoints object stops at 1,000 addresses while
the EndpointSlices hold every pod. One 2 x 2,000-pod lab for the module."""

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import watch

from chaosext import clusters
from chaosext.lab import runtime, tls
from chaosext.live import reader
from tests.labfixtures import (
    apps,
    core,
    kubectl,
    needs_kubectl,
    running_lab,
    topology_dict,
    wait_for,
)

PODS = 2000
SELECTOR = "app=hello-world"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[runtime.LabInfo]:
    data = topology_dict()
    for workload in data["workloads"]:
        if workload["name"] == "hello-world":
            workload["replicas"] = dict.fromkeys(workload["replicas"], PODS)
    with running_lab(data, tmp_path_factory.mktemp("big-lists-lab")) as info:
        wait_for(
            lambda: all(
                apps(info, context)
                .read_namespaced_deployment("hello-world", "default")
                .status.ready_replicas
                == PODS
                for context in info.clusters
            ),
            60,
            f"{PODS} hello-world pods ready in each cluster",
        )
        yield info


@pytest.fixture(scope="module")
def cache(kubectl_cache: Path) -> Path:
    return kubectl_cache


def get(lab: runtime.LabInfo, path: str, accept: str = "application/json") -> Any:
    answer = requests.get(
        lab.clusters["cluster-a"] + path,
        headers={"Authorization": f"Bearer {lab.token}", "Accept": accept},
        verify=str(lab.state_dir / tls.CA_FILE),
        timeout=30,
    )
    return answer.status_code, answer.json()


def all_pod_names(lab: runtime.LabInfo) -> set[str]:
    _, whole = get(lab, "/api/v1/pods")
    return {p["metadata"]["name"] for p in whole["items"]}


@needs_kubectl
def test_kubectl_get_pods_all_namespaces_pages_and_shows_every_pod(
    lab: runtime.LabInfo, cache: Path
) -> None:
    """`kubectl get pods -A` asks Tables of 500 with continue tokens and prints
    every pod of the cluster."""
    done = kubectl(lab, cache, "--context", "cluster-a", "get", "pods", "-A", "-v=6")
    lines = done.stdout.splitlines()[1:]
    assert {line.split()[1] for line in lines} == all_pod_names(lab)
    assert len(lines) > PODS
    requests_made = [line for line in done.stderr.splitlines() if "/pods?" in line]
    assert any("limit=500" in line for line in requests_made)
    assert any("continue=" in line for line in requests_made)


def test_the_client_pages_with_remaining_item_count(lab: runtime.LabInfo) -> None:
    """list_namespaced_pod(limit, _continue) reads every pod, each page saying
    how many are left."""
    api = core(lab)
    names: list[str] = []
    remaining: list[int | None] = []
    token = None
    while True:
        page = api.list_namespaced_pod("default", limit=400, _continue=token)
        names += [p.metadata.name for p in page.items]
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert len(names) == len(set(names)) == PODS
    left = list(range(PODS - 400, 0, -400))
    assert remaining == [*left, None]


def test_tables_page_with_a_selector(lab: runtime.LabInfo) -> None:
    """Table pages of 250 rows, each with its column definitions, following the
    token; with a label selector there is no remainingItemCount."""
    rows: list[Any] = []
    path = f"/api/v1/namespaces/default/pods?limit=250&labelSelector={SELECTOR}"
    token = ""
    while True:
        code, page = get(lab, path + (f"&continue={token}" if token else ""), TABLE)
        assert code == 200
        assert page["kind"] == "Table"
        assert page["columnDefinitions"][0]["name"] == "Name"
        assert "remainingItemCount" not in page["metadata"]
        rows += page["rows"]
        token = page["metadata"].get("continue", "")
        if not token:
            break
    names = {row["cells"][0] for row in rows}
    assert len(rows) == len(names) == PODS


def test_an_expired_token_is_410_and_its_token_goes_on(lab: runtime.LabInfo) -> None:
    """A token whose resourceVersion is gone is 410 Expired; the Status's token
    lists the rest."""
    _, first = get(lab, "/api/v1/namespaces/default/pods?limit=100")
    raw = first["metadata"]["continue"]
    token = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    token["rv"] = 5  # long compacted
    stale = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
    code, status = get(lab, f"/api/v1/namespaces/default/pods?continue={stale}")
    assert (code, status["reason"]) == (410, "Expired")
    _, rest = get(
        lab,
        f"/api/v1/namespaces/default/pods?continue={status['metadata']['continue']}",
    )
    listed = [p["metadata"]["name"] for p in first["items"] + rest["items"]]
    assert len(listed) == len(set(listed)) == PODS


def test_endpoints_stop_at_1000_addresses_and_slices_hold_every_pod(
    lab: runtime.LabInfo,
) -> None:
    """hello-world's Endpoints: 1,000 addresses, annotated over-capacity:
    truncated; its EndpointSlices: all 2,000 pods."""
    api = core(lab)
    endpoints = api.read_namespaced_endpoints("hello-world", "default")
    kept = sum(len(s.addresses or []) for s in endpoints.subsets)
    assert kept == 1000
    assert endpoints.metadata.annotations["endpoints.kubernetes.io/over-capacity"] == (
        "truncated"
    )
    _, slices = get(
        lab,
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
        "?labelSelector=kubernetes.io/service-name=hello-world",
    )
    pods = {e["targetRef"]["name"] for s in slices["items"] for e in s["endpoints"]}
    assert len(pods) == PODS


def test_the_live_reader_sees_every_pod_in_pages(lab: runtime.LabInfo) -> None:
    """`meshdrill live` reads pods (not Endpoints), in pages: all 2,000 hello-world
    pods of each cluster, with one more call per extra page."""
    state = reader.read_mesh(lab.kubeconfig)
    for context in lab.clusters:
        pods = state.clusters[context].pods
        hello = [p for p in pods if p["metadata"]["name"].startswith("hello-world")]
        assert len(hello) == PODS
    assert state.calls > reader.CALLS_PER_CONTEXT * len(lab.clusters)


def test_actions_and_probes_list_every_pod_in_pages(lab: runtime.LabInfo) -> None:
    """`clusters.list_pods` (actions, probes) pages through all 2,000 pods."""
    configuration = {"kubeconfig": str(lab.kubeconfig)}
    with clusters.connect("cluster-a", configuration) as cluster:
        pods = clusters.list_pods(cluster, "default", SELECTOR)
    assert len({p.metadata.name for p in pods}) == PODS


def test_a_watch_from_now_starts_with_every_pod(lab: runtime.LabInfo) -> None:
    """A watch without resourceVersion opens with one ADDED event per pod (sent
    a slice at a time), all 2,000 of them."""
    seen: set[str] = set()
    stream = watch.Watch()
    for event in stream.stream(
        core(lab).list_namespaced_pod,
        "default",
        label_selector=SELECTOR,
        timeout_seconds=30,
        _request_timeout=60,
    ):
        if event["type"] == "ADDED":
            seen.add(event["object"].metadata.name)
        if len(seen) == PODS:
            stream.stop()
    assert len(seen) == PODS
