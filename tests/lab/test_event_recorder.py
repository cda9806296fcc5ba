"""The lab's event recorder counts repeats into one Event and combines similar
ones, as client-go's EventCorrelator does (`tools/record/events_cache.go`)."""

from chaosext.lab import events, kinds
from chaosext.lab.store import Obj, Store


def stored_pod(store: Store) -> Obj:
    return store.create(
        kinds.POD,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    )


def stored_events(store: Store) -> list[Obj]:
    return sorted(store.objects(kinds.EVENT), key=lambda e: e["metadata"]["name"])


def test_a_repeated_event_is_counted_not_stored_again() -> None:
    """Same reason and message three times: one Event, count 3."""
    store = Store("c1")
    pod = stored_pod(store)
    for _ in range(3):
        events.record(store, pod, kinds.POD, "BackOff", "Back-off", "kubelet")
    (event,) = stored_events(store)
    assert event["count"] == 3
    assert event["lastTimestamp"] >= event["firstTimestamp"]


def test_different_messages_are_separate_events() -> None:
    """A new message for the same reason is a new Event (until aggregation)."""
    store = Store("c1")
    pod = stored_pod(store)
    events.record(store, pod, kinds.POD, "Pulled", "image a", "kubelet")
    events.record(store, pod, kinds.POD, "Pulled", "image b", "kubelet")
    assert [e["count"] for e in stored_events(store)] == [1, 1]


def test_many_similar_events_are_combined() -> None:
    """From the tenth different message on, one combined Event counts them all."""
    store = Store("c1")
    pod = stored_pod(store)
    for i in range(12):
        events.record(store, pod, kinds.POD, "Failed", f"attempt {i}", "kubelet")
    stored = stored_events(store)
    combined = [e for e in stored if e["message"].startswith(events.COMBINED)]
    assert len(stored) == 9 + 1
    assert len(combined) == 1
    assert combined[0]["count"] == 3
    assert combined[0]["message"] == events.COMBINED + "attempt 11"


def test_a_repeat_of_a_deleted_event_is_stored_anew() -> None:
    """An Event gone (expired, deleted) is not counted into: a new one starts."""
    store = Store("c1")
    pod = stored_pod(store)
    events.record(store, pod, kinds.POD, "Killing", "Stopping", "kubelet")
    (event,) = stored_events(store)
    store.delete(kinds.EVENT, "default", event["metadata"]["name"])
    events.record(store, pod, kinds.POD, "Killing", "Stopping", "kubelet")
    (again,) = stored_events(store)
    assert again["count"] == 1
