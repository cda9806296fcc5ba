"""The lab's record (`routing.jsonl`) of the waits it imposes beyond routing.

- `ready` / `gone`: any pod, istiod's too, with `since` (asked for) before `at`;
  written when the pod is Ready in the API / gone from it.
- `fault`: a pod's fault changes when its sidecar's EnvoyFilter takes effect and
  when it is removed; `delayed`: each request a pod's server delayed, only while
  its fault was on, only from the pods under it.

Everything is driven over the lab's HTTP APIs (the drill's own actions, plain
requests to the pods); waits are on conditions with deadlines.
"""

import time
from collections.abc import Callable
from typing import Any

import requests

from chaosext.actions import httpfault, outages
from chaosext.annotations import RUN_ID_KEY
from chaosext.lab import groundtruth, runtime
from chaosext.lab.objects import ADDRESS_ANNOTATION
from tests.labfixtures import apps, core, wait_for

Start = Callable[[str], runtime.LabInfo]


def _lines(lab: runtime.LabInfo, kind: str, **fields: Any) -> list[dict[str, Any]]:
    return [
        r
        for r in groundtruth.read(lab.state_dir)
        if r["type"] == kind and all(r.get(k) == v for k, v in fields.items())
    ]


def _when(
    count: int, lab: runtime.LabInfo, kind: str, **fields: Any
) -> Callable[[], list[dict[str, Any]] | None]:
    """A condition: `count` lines of `kind` with `fields`, returned once there."""

    def found() -> list[dict[str, Any]] | None:
        lines = _lines(lab, kind, **fields)
        return lines if len(lines) == count else None

    return found


def _pods(lab: runtime.LabInfo, namespace: str, selector: str) -> list[Any]:
    return list(
        core(lab, "cluster-a")
        .list_namespaced_pod(namespace, label_selector=selector)
        .items
    )


def _is_ready(pod: Any) -> bool:
    return any(
        c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []
    )


def test_istiod_going_and_coming_back_is_recorded(start_lab_from: Start) -> None:
    lab = start_lab_from("guide-000")
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-records"}
    (old,) = _pods(lab, "istio-system", "app=istiod")
    asked = time.time()
    outages.control_plane_outage(context="cluster-a", configuration=config)

    (gone,) = wait_for(
        _when(1, lab, "gone", namespace="istio-system", cluster="cluster-a"),
        15,
        "a gone line for istiod",
    )
    assert gone["pod"] == old.metadata.name
    assert asked <= gone["since"] <= gone["at"]
    # written once the pod left the API
    assert old.metadata.name not in {
        p.metadata.name for p in _pods(lab, "istio-system", "app=istiod")
    }

    back = time.time()
    outages.restore_control_plane(context="cluster-a", configuration=config)
    (ready,) = wait_for(
        _when(1, lab, "ready", namespace="istio-system", cluster="cluster-a"),
        15,
        "a ready line for the new istiod",
    )
    (new,) = _pods(lab, "istio-system", "app=istiod")
    assert ready["pod"] == new.metadata.name != old.metadata.name
    assert back <= ready["since"] <= ready["at"]
    assert _is_ready(new)
    dep = apps(lab, "cluster-a").read_namespaced_deployment("istiod", "istio-system")
    assert dep.status.ready_replicas == 1


def _ask(pod: Any) -> int:
    address = pod.metadata.annotations[ADDRESS_ANNOTATION]
    return requests.get(f"http://{address}/hostname", timeout=5).status_code


def test_a_sidecar_delay_and_the_requests_it_held_are_recorded(
    start_lab_from: Start,
) -> None:
    lab = start_lab_from("guide-000")
    config = {"kubeconfig": str(lab.kubeconfig), RUN_ID_KEY: "run-delay"}
    pods = _pods(lab, "default", "app=hello-world")
    names = {p.metadata.name for p in pods}
    assert len(names) == 2
    assert not _lines(lab, "fault")
    httpfault.inject_http_fault(
        "app=hello-world",
        context="cluster-a",
        status=0,
        delay=0.2,
        configuration=config,
    )

    on = wait_for(
        _when(2, lab, "fault", active=True),
        15,
        "fault lines for both of cluster-a's pods",
    )
    assert {r["pod"] for r in on} == names
    for line in on:
        assert (line["cluster"], line["delay"], line["delay_percent"]) == (
            "cluster-a",
            0.2,
            100.0,
        )
        assert line["status"] is None
    for pod in pods:
        assert _ask(pod) == 200
    held = wait_for(
        _when(2, lab, "delayed"),
        15,
        "a delayed line per request",
    )
    assert {r["pod"] for r in held} == names
    began = max(r["at"] for r in on)
    for line in held:
        assert began <= line["since"] < line["at"]

    httpfault.clear_http_fault(
        "app=hello-world", context="cluster-a", configuration=config
    )
    off = wait_for(
        _when(2, lab, "fault", active=False),
        15,
        "fault lines: both pods without a fault",
    )
    assert {r["pod"] for r in off} == names
    assert all(r["delay"] == 0.0 for r in off)
    for pod in pods:
        assert _ask(pod) == 200
    # answered without a delay: no new line, and none began after the fault ended
    assert len(_lines(lab, "delayed")) == 2
    ended = min(r["at"] for r in off)
    assert all(r["since"] < ended for r in _lines(lab, "delayed"))
