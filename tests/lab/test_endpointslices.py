"""The EndpointSlice controller on a bare store (no servers): slices of at most
100 endpoints, named and labelled as kube-controller-manager's, an endpoint kept
in its slice, and only the slices that changed rewritten."""

import asyncio
from typing import Any

import pytest

from chaosext.lab import endpointslices, kinds
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Event, Store

SERVICE_LABELS = {
    endpointslices.SERVICE_NAME: "web",
    endpointslices.MANAGED_BY: endpointslices.SLICE_CONTROLLER,
}


def pod(number: int, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": f"web-{number}", "namespace": "default",
                     "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "x",
                                 "ports": [{"name": "http", "containerPort": 8080}]}],
                 "nodeName": "n1"},
        "status": {"phase": "Running", "podIP": f"10.0.{number // 250}.{number % 250}",
                   "conditions": [{"type": "Ready",
                                   "status": "True" if ready else "False"}]},
    }  # fmt: skip


@pytest.fixture
def store() -> Store:
    s = Store("c1")
    s.create(kinds.NODE, {"metadata": {"name": "n1", "labels": {
        "topology.kubernetes.io/zone": "z1"}}})  # fmt: skip
    s.create(
        kinds.SERVICE,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    )
    return s


def sync(store: Store) -> list[Event]:
    """One controller pass; the EndpointSlice events it made."""
    seen: list[Event] = []
    stop = store.subscribe(
        lambda e: seen.append(e) if e.kind is kinds.ENDPOINT_SLICE else None
    )
    try:
        asyncio.run(endpointslices.sync(store, Pacer()))
    finally:
        stop()
    return seen


def slices(store: Store) -> list[dict[str, Any]]:
    return sorted(
        store.objects(kinds.ENDPOINT_SLICE), key=lambda s: s["metadata"]["name"]
    )


def pod_names(store: Store) -> list[str]:
    return sorted(
        e["targetRef"]["name"] for s in slices(store) for e in s["endpoints"] or []
    )


def test_250_pods_make_three_slices_of_at_most_100(store: Store) -> None:
    for number in range(250):
        store.create(kinds.POD, pod(number))
    sync(store)
    found = slices(store)
    assert sorted(len(s["endpoints"]) for s in found) == [50, 100, 100]
    assert pod_names(store) == sorted(f"web-{n}" for n in range(250))
    for s in found:
        assert s["metadata"]["name"].startswith("web-")
        assert len(s["metadata"]["name"]) == len("web-") + 5
        assert s["metadata"]["labels"] == SERVICE_LABELS
        assert s["metadata"]["ownerReferences"][0]["kind"] == "Service"
        assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        assert {e["zone"] for e in s["endpoints"]} == {"z1"}


def test_only_the_changed_slice_is_rewritten(store: Store) -> None:
    for number in range(250):
        store.create(kinds.POD, pod(number))
    sync(store)
    assert sync(store) == []  # nothing changed: nothing written
    store.delete(kinds.POD, "default", "web-7")
    store.replace(kinds.POD, store.get(kinds.POD, "default", "web-9") | pod(9, False))
    events = sync(store)
    assert [e.type for e in events] == ["MODIFIED"]  # web-7 and web-9 share one
    (endpoint,) = [
        e for e in events[0].object["endpoints"] if e["targetRef"]["name"] == "web-9"
    ]
    assert endpoint["conditions"]["ready"] is False
    assert "web-7" not in pod_names(store)


def test_new_pods_fill_a_slice_with_room_before_a_new_one(store: Store) -> None:
    for number in range(150):
        store.create(kinds.POD, pod(number))
    sync(store)
    store.create(kinds.POD, pod(150))
    events = sync(store)
    assert [e.type for e in events] == ["MODIFIED"]
    assert sorted(len(s["endpoints"]) for s in slices(store)) == [51, 100]


def test_no_pods_leave_one_empty_slice(store: Store) -> None:
    for number in range(250):
        store.create(kinds.POD, pod(number))
    sync(store)
    for number in range(250):
        store.delete(kinds.POD, "default", f"web-{number}")
    sync(store)
    (placeholder,) = slices(store)
    assert placeholder["endpoints"] == []
    assert placeholder["ports"] is None
    assert placeholder["metadata"]["labels"] == SERVICE_LABELS
    store.create(kinds.POD, pod(1))
    sync(store)
    (only,) = slices(store)
    assert [e["targetRef"]["name"] for e in only["endpoints"]] == ["web-1"]
