"""`kubectl logs deploy/<waypoint>`: one Envoy access line per request the waypoint
routes, in Istio's default text format, when access logging is on (meshConfig
`accessLogFile`, or a Telemetry `accessLogging`, the most specific one winning)."""

import re
from pathlib import Path
from typing import Any

from kubernetes import client

from chaosext.lab import runtime
from tests.lab import meshsample
from tests.labfixtures import api_client

URL = "in-ambient.httpbin.mesh.internal:8000/hostname"
LINE = re.compile(
    r'^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] "GET /hostname HTTP/1\.1" 200 - '
    r'via_upstream - "-" 0 \d+ \d+ \d+ "-" "curl/[^"]+" "[^"]+" '
    r'"in-ambient\.httpbin\.mesh\.internal:8000" "127\.0\.0\.1:\d+" '
    r"inbound-vip\|8000\|http\|in-ambient\.httpbin\.mesh\.internal - "
    r"127\.0\.0\.1:\d+ \S+ - default$"
)
TELEMETRY_OFF = {
    "apiVersion": "telemetry.istio.io/v1",
    "kind": "Telemetry",
    "metadata": {"name": "no-access-log", "namespace": "httpbin"},
    "spec": {"accessLogging": [{"disabled": True}]},
}


def mesh_access_log(data: dict[str, Any]) -> None:
    data["mesh"]["accessLogFile"] = "/dev/stdout"


def waypoint_log(info: runtime.LabInfo) -> list[str]:
    pods = meshsample.items(info, "cluster1", "/api/v1/namespaces/httpbin/pods")
    (pod,) = [
        p["metadata"]["name"]
        for p in pods
        if p["metadata"]["name"].startswith("httpbin-waypoint-")
    ]
    with api_client(info, "cluster1") as api:
        text = client.CoreV1Api(api).read_namespaced_pod_log(pod, "httpbin")
    return [line for line in text.splitlines() if line]


def curl(info: runtime.LabInfo, count: int) -> None:
    seen = meshsample.sample_exec(info, "cluster1", URL, count)
    assert meshsample.ERROR not in seen


def test_no_access_lines_without_access_logging(tmp_path: Path) -> None:
    """Istio's default mesh config logs nothing."""
    with meshsample.running_lab("guide-001-waypoint", tmp_path) as info:
        curl(info, 3)
        assert waypoint_log(info) == []


def test_mesh_access_log_file_writes_one_line_per_request(tmp_path: Path) -> None:
    """meshConfig accessLogFile: an Envoy-format line for each routed request."""
    with meshsample.running_lab(
        "guide-001-waypoint", tmp_path, mesh_access_log
    ) as info:
        curl(info, 4)
        lines = waypoint_log(info)
    assert len(lines) == 4
    assert all(LINE.match(line) for line in lines), lines


def test_namespace_telemetry_turns_the_mesh_default_off(tmp_path: Path) -> None:
    """A Telemetry in the waypoint's namespace wins over meshConfig."""
    with meshsample.running_lab(
        "guide-001-waypoint", tmp_path, mesh_access_log
    ) as info:
        with api_client(info, "cluster1") as api:
            client.CustomObjectsApi(api).create_namespaced_custom_object(
                "telemetry.istio.io", "v1", "httpbin", "telemetries", TELEMETRY_OFF
            )
        curl(info, 3)
        assert waypoint_log(info) == []
