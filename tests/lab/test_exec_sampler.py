"""The exec sampler through the lab's exec (the API's websocket, curl run for real).

The cluster_failover tier's source: `deploy/client-in-ambient` in cluster1 curls
`in-ambient.httpbin.mesh.internal:8000/hostname` through its ztunnel, which pins
each client connection to one pod.
"""

from collections.abc import Callable
from typing import Any

from chaosext.lab import runtime
from probes import source

SPEC = {
    "exec": {
        "context": "cluster1",
        "namespace": "httpbin",
        "pod": "deploy/client-in-ambient",
    },
    "url": "in-ambient.httpbin.mesh.internal:8000/hostname",
    "extractor": "bare",
}


def test_one_exec_samples_200_requests_each_on_its_own_connection(
    start_lab_from: Callable[[Any], runtime.LabInfo],
) -> None:
    """200 requests in one exec (the API's request line stays short), all answered,
    spread over both local pods (a new connection per request), each timed."""
    info = start_lab_from("guide-001")
    with source.source_from(SPEC, {"kubeconfig": str(info.kubeconfig)}, None) as src:
        sample = src.sample(200)
    assert sample.errors == {}
    assert len(sample.answers) == 200
    pods = sample.counts()
    assert len(pods) == 2, pods
    assert all(name.startswith("in-ambient-") for name in pods)
    times = sample.answer_times
    assert len(times) == 200
    assert times == sorted(times)
    assert sample.started_at <= times[0] <= times[-1] <= sample.finished_at
