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


def endpoints(store: Store) -> dict[str, Any]:
    found = store.peek(kinds.ENDPOINTS, "default", "web")
    assert found is not None
    return found


def addresses(store: Store, field: str = "addresses") -> list[str]:
    return [
        a["ip"] for s in endpoints(store).get("subsets", []) for a in s.get(field, [])
    ]


def over_capacity(store: Store) -> str | None:
    annotations = endpoints(store)["metadata"].get("annotations") or {}
    return annotations.get(endpointslices.OVER_CAPACITY)


def test_endpoints_over_1000_addresses_are_cut_and_annotated(store: Store) -> None:
    """1,100 ready pods: Endpoints keeps the first 1,000 by IP, annotated
    over-capacity: truncated; the EndpointSlices keep all 1,100."""
    for number in range(1100):
        store.create(kinds.POD, pod(number))
    sync(store)
    every = sorted(p["status"]["podIP"] for p in store.objects(kinds.POD))
    assert addresses(store) == every[:1000]
    assert over_capacity(store) == "truncated"
    assert len(pod_names(store)) == 1100


def test_ready_addresses_are_kept_before_not_ready_ones(store: Store) -> None:
    """900 ready and 200 not ready pods: all ready kept, 100 not ready."""
    for number in range(1100):
        store.create(kinds.POD, pod(number, ready=number < 900))
    sync(store)
    assert len(addresses(store)) == 900
    assert len(addresses(store, "notReadyAddresses")) == 100
    assert over_capacity(store) == "truncated"


def test_back_under_capacity_the_annotation_goes(store: Store) -> None:
    """Deleting pods down to 1,000 gives every address back and drops the
    annotation."""
    for number in range(1001):
        store.create(kinds.POD, pod(number))
    sync(store)
    assert over_capacity(store) == "truncated"
    store.delete(kinds.POD, "default", "web-1000")
    sync(store)
    assert len(addresses(store)) == 1000
    assert over_capacity(store) is None


def test_truncate_shares_the_cap_between_subsets_by_size() -> None:
    """Each subset keeps its share of the cap, rounded up; the last what is left;
    not-ready addresses go when the ready ones alone are over the cap."""

    def subset(ready: int, not_ready: int = 0) -> dict[str, Any]:
        made: dict[str, Any] = {"addresses": [{"ip": str(i)} for i in range(ready)]}
        if not_ready:
            made["notReadyAddresses"] = [{"ip": str(i)} for i in range(not_ready)]
        return made

    subsets = [subset(600, 5), subset(901)]
    assert endpointslices.truncate(subsets)
    assert [len(s["addresses"]) for s in subsets] == [400, 600]
    assert all("notReadyAddresses" not in s for s in subsets)
    under = [subset(500), subset(500)]
    assert not endpointslices.truncate(under)
    assert [len(s["addresses"]) for s in under] == [500, 500]
