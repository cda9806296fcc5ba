"""The lab's object store: patches, selectors, resource versions (no servers)."""

from typing import Any

import pytest

from chaosext.lab import kinds, patching, selectors
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Store


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "x"}], "nodeName": "n1"},
        "status": {"phase": "Running"},
    }


@pytest.fixture
def store() -> Store:
    s = Store("c1")
    s.create(kinds.POD, pod("a", app="web", tier="front"))
    s.create(kinds.POD, pod("b", app="web"))
    s.create(kinds.POD, pod("c", app="db"))
    return s


@pytest.mark.parametrize(
    ("selector", "names"),
    [
        ("app=web", ["a", "b"]),
        ("app==web", ["a", "b"]),
        ("app!=web", ["c"]),
        ("app in (db, cache)", ["c"]),
        ("app notin (db)", ["a", "b"]),
        ("tier", ["a"]),
        ("!tier", ["b", "c"]),
        ("app=web,!tier", ["b"]),
    ],
)
def test_label_selectors(store: Store, selector: str, names: list[str]) -> None:
    """Label selectors support =, ==, !=, in, notin, exists and does-not-exist."""
    found = store.list(kinds.POD, "default", label_selector=selector)
    assert [p["metadata"]["name"] for p in found] == names


def test_field_selectors(store: Store) -> None:
    """Field selectors match metadata.name, spec.nodeName and status.phase."""
    query = "metadata.name!=a,spec.nodeName=n1,status.phase=Running"
    found = store.list(kinds.POD, None, field_selector=query)
    assert [p["metadata"]["name"] for p in found] == ["b", "c"]


def test_unknown_field_selector_is_a_bad_request(store: Store) -> None:
    """An unsupported field label is a 400, as on a real API server."""
    with pytest.raises(
        ApiError, match=r"field label not supported: spec\.color"
    ) as err:
        store.list(kinds.POD, None, field_selector="spec.color=red")
    assert err.value.code == 400


def test_writes_bump_resource_version(store: Store) -> None:
    """Every write gives the object the store's new resourceVersion."""
    before = store.resource_version
    updated = store.mutate(kinds.POD, "default", "a", lambda o: o["status"].update(x=1))
    assert int(updated["metadata"]["resourceVersion"]) == before + 1


def test_stale_resource_version_conflicts(store: Store) -> None:
    """Replacing with an old resourceVersion is a 409 Conflict."""
    old = store.get(kinds.POD, "default", "a")
    store.mutate(kinds.POD, "default", "a", lambda o: o["status"].update(x=1))
    with pytest.raises(ApiError) as err:
        store.replace(kinds.POD, old)
    assert err.value.code == 409


def test_creating_twice_is_already_exists(store: Store) -> None:
    """A second create of the same name is 409 AlreadyExists."""
    with pytest.raises(ApiError, match='pods "a" already exists'):
        store.create(kinds.POD, pod("a"))


def test_strategic_merge_merges_containers_by_name() -> None:
    """Strategic merge patches merge lists of containers by their name."""
    target = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b"}]}}
    patch = {"spec": {"containers": [{"name": "a", "image": "2"}]}}
    merged = patching.apply(patching.STRATEGIC_PATCH, target, patch)
    assert merged["spec"]["containers"] == [{"name": "a", "image": "2"}, {"name": "b"}]


def test_merge_patch_null_deletes() -> None:
    """A JSON merge patch value of null removes the key (kubectl annotate x-)."""
    target = {"metadata": {"annotations": {"x": "1", "y": "2"}}}
    patch = {"metadata": {"annotations": {"x": None}}}
    merged = patching.apply(patching.MERGE_PATCH, target, patch)
    assert merged == {"metadata": {"annotations": {"y": "2"}}}


def test_json_patch_operations() -> None:
    """JSON patch add, replace, remove and test work on objects and arrays."""
    target = {"spec": {"replicas": 1, "list": [1, 2]}}
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/list/-", "value": 3},
        {"op": "remove", "path": "/spec/list/0"},
    ]
    assert patching.json_patch(target, ops) == {"spec": {"replicas": 3, "list": [2, 3]}}


def test_failed_json_patch_test_is_invalid() -> None:
    """A failing `test` operation rejects the whole patch (422)."""
    with pytest.raises(ApiError) as err:
        patching.json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
    assert err.value.code == 422


def test_selector_string_round_trips() -> None:
    """A LabelSelector prints as the query string the Scale status shows."""
    selector = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}],
    }
    text = selectors.selector_string(selector)
    assert text == "app=web,tier in (a,b)"
    assert selectors.labels_match(
        selectors.parse_labels(text), {"app": "web", "tier": "b"}
    )
