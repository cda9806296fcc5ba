"""Client proxies in a live lab: sidecar (Envoy, outlier detection per client),
ztunnel (L4: no ejection, resets), and the waypoint switch read live from the store."""

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chaosext.lab import runtime, topology
from tests.lab import meshsample
from tests.labfixtures import api_client, gateway_url, wait_for

FAULT = "lab.meshdrill.io/fault"
HELLO = "hello-world.default.svc.cluster.local"
GLOBAL_URL = "in-ambient.httpbin.mesh.internal:8000/hostname"
HEADERS = "curl -s -o /dev/null -D - in-ambient.httpbin.mesh.internal:8000/hostname"


def add_sidecar_client(data: dict[str, Any]) -> None:
    """guide-000 plus a client pod with a sidecar in cluster-a."""
    data["clients"] = [
        {
            "name": "sleep",
            "namespace": "default",
            "cluster": "cluster-a",
            "zone": "europe-west1-c",
            "proxy": "sidecar",
        }
    ]


def set_fault(
    info: runtime.LabInfo, context: str, ns: str, pod: str, fault: Any
) -> None:
    with api_client(info, context) as api:
        client.CoreV1Api(api).patch_namespaced_pod(
            pod, ns, {"metadata": {"annotations": {FAULT: json.dumps(fault)}}}
        )


def answers(info: runtime.LabInfo, context: str, ns: str, app: str) -> Counter[str]:
    """Status codes of 40 separate curls from a client pod."""
    pod = meshsample.client_pod(info, context, app, ns)
    url = HELLO + "/hostname" if ns == "default" else GLOBAL_URL
    curl = f"curl -s -o /dev/null -w '%{{http_code}}\\n' {url}"
    script = f"for i in $(seq 1 40); do {curl}; done"
    out, _, _ = meshsample.exec_in(info, context, ns, pod, script)
    return Counter(out.split())


def test_outlier_state_is_per_client_proxy(tmp_path: Path) -> None:
    """A 503-answering pod is ejected by each Envoy on its own first 503: the client's
    sidecar and the ingress gateway each see exactly one error (guide 000's DR:
    consecutive5xxErrors 1, maxEjectionPercent 100, HTTP 503 not retried)."""
    with meshsample.running_lab("guide-000", tmp_path, add_sidecar_client) as info:
        broken = meshsample.pod_names(info, "cluster-a", "hello-world", "default")[0]
        set_fault(info, "cluster-a", "default", broken, {"status": 503})
        from_client = answers(info, "cluster-a", "default", "sleep")
        from_gateway = meshsample.sample_http(gateway_url(info) + "/hostname", 40)
    assert from_client == Counter({"200": 39, "503": 1})
    assert from_gateway[meshsample.ERROR] == 1
    assert broken not in from_gateway


def test_ztunnel_keeps_sending_to_a_failing_pod(tmp_path: Path) -> None:
    """ztunnel has no outlier detection: with PreferClose every curl goes to the
    same-zone pod, even while it answers 503."""
    with meshsample.running_lab("guide-001", tmp_path) as info:
        with api_client(info, "cluster1") as api:
            client.CoreV1Api(api).patch_namespaced_service(
                "in-ambient",
                "httpbin",
                {
                    "metadata": {
                        "annotations": {
                            "networking.istio.io/traffic-distribution": "PreferClose"
                        }
                    }
                },
            )
        zone_a = {
            pod
            for pod, where in meshsample.zones_of_pods(info).items()
            if where == "cluster1/us-east-1a" and pod.startswith("in-ambient")
        }
        wait_for(
            lambda: (
                set(meshsample.sample_exec(info, "cluster1", GLOBAL_URL, 10)) == zone_a
            ),
            10,
            "PreferClose in effect",
        )
        set_fault(info, "cluster1", "httpbin", zone_a.pop(), {"status": 503})
        seen = answers(info, "cluster1", "httpbin", "client-in-ambient")
    assert seen == Counter({"503": 40})


def test_ztunnel_resets_when_no_endpoint_is_left(tmp_path: Path) -> None:
    """With every endpoint gone, ztunnel resets the connection: curl exit 52."""
    with meshsample.running_lab("guide-001", tmp_path) as info:
        for context in info.clusters:
            with api_client(info, context) as api:
                client.AppsV1Api(api).patch_namespaced_deployment_scale(
                    "in-ambient", "httpbin", {"spec": {"replicas": 0}}
                )
        pod = meshsample.client_pod(info, "cluster1", "client-in-ambient", "httpbin")

        def curl_exit() -> int:
            _, _, code = meshsample.exec_in(
                info, "cluster1", "httpbin", pod, f"curl -s {GLOBAL_URL}"
            )
            return code

        assert wait_for(lambda: curl_exit() == 52, 10, "curl exit 52")


def test_waypoint_label_is_read_live(tmp_path: Path) -> None:
    """Removing `istio.io/use-waypoint` from the namespace takes the waypoint out of
    the path: the x-lab-waypoint header disappears."""
    with meshsample.running_lab("guide-001-waypoint", tmp_path) as info:
        pod = meshsample.client_pod(info, "cluster1", "client-in-ambient", "httpbin")
        before, _, _ = meshsample.exec_in(info, "cluster1", "httpbin", pod, HEADERS)
        with api_client(info, "cluster1") as api:
            client.CoreV1Api(api).patch_namespace(
                "httpbin", {"metadata": {"labels": {"istio.io/use-waypoint": None}}}
            )
        after, _, _ = meshsample.exec_in(info, "cluster1", "httpbin", pod, HEADERS)
    assert "x-lab-waypoint: httpbin-waypoint" in before.lower()
    assert "server: istio-envoy" in before.lower()
    assert "x-lab-waypoint" not in after.lower()


def test_waypoint_deployment_exists(tmp_path: Path) -> None:
    """The topology's waypoint runs as a Deployment pinned to its zone."""
    with meshsample.running_lab("guide-001-waypoint", tmp_path) as info:
        where = meshsample.zones_of_pods(info)
    waypoints = sorted(v for k, v in where.items() if k.startswith("httpbin-waypoint"))
    assert waypoints == ["cluster1/us-east-1a", "cluster2/us-west-2a"]


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (
            "cluster: cluster2, zone: us-east-1a}",
            "waypoints[1].zone: zone 'us-east-1a'",
        ),
        ("cluster: cluster1, zone: us-east-1a}", "duplicate waypoint"),
    ],
)
def test_bad_waypoint_entries_are_refused(wrong: str, words: str) -> None:
    """A waypoint in a zone its cluster lacks, or declared twice, fails naming it."""
    text = topology.resolve("guide-001-waypoint").read_text()
    text = text.replace("cluster: cluster2, zone: us-west-2a}", wrong)
    with pytest.raises(topology.TopologyError, match=re.escape(words)):
        topology.parse(text, "bad.yaml")
