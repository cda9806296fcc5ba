"""List paging as kube-apiserver does it (`limit`, `continue`, remainingItemCount,
410 Expired, resourceVersion rules), on the store alone (no server)."""

import asyncio
import base64
import json
from typing import Any

import pytest

from chaosext.lab import kinds, listing
from chaosext.lab.errors import ApiError
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Store


def pod(name: str, namespace: str = "default", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app", "image": "x"}], "nodeName": "n1"},
        "status": {"phase": "Running"},
    }


@pytest.fixture
def store() -> Store:
    s = Store("c1")
    for i in range(10):
        s.create(kinds.POD, pod(f"p{i}", app="web" if i % 2 else "db"))
    for i in range(3):
        s.create(kinds.POD, pod(f"q{i}", namespace="other", app="web"))
    return s


def read(
    store: Store,
    namespace: str | None = None,
    labels: str | None = None,
    fields: str | None = None,
    now: float = 0.0,
    **query: Any,
) -> listing.Page:
    options = listing.Options.parse({k: str(v) for k, v in query.items()})
    return listing.read(
        store, kinds.POD, namespace, labels, fields, options, clock=lambda: now
    )


def names(page: listing.Page) -> list[str]:
    return [item["metadata"]["name"] for item in page.items]


def every_page(store: Store, limit: int, **kwargs: Any) -> list[listing.Page]:
    pages = [read(store, limit=limit, **kwargs)]
    while pages[-1].token:
        pages.append(
            read(store, limit=limit, **{"continue": pages[-1].token}, **kwargs)
        )
    return pages


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 12, 13, 14, 500])
def test_pages_of_any_size_list_every_item_once(store: Store, limit: int) -> None:
    """Pages of `limit` items, followed by their tokens, list every pod once."""
    pages = every_page(store, limit)
    assert all(len(page.items) <= limit for page in pages)
    listed = [name for page in pages for name in names(page)]
    assert listed == names(read(store))
    assert len(listed) == 13


def test_remaining_item_count_counts_what_is_left(store: Store) -> None:
    """Each page but the last says how many items are left; the last says nothing."""
    pages = every_page(store, 5)
    assert [p.remaining for p in pages] == [8, 3, None]
    assert [bool(p.token) for p in pages] == [True, True, False]


def test_a_namespace_pages_within_itself(store: Store) -> None:
    """A namespaced list pages over that namespace only, remaining counted in it."""
    pages = every_page(store, 4, namespace="default")
    assert [p.remaining for p in pages] == [6, 2, None]
    assert [n for p in pages for n in names(p)] == [f"p{i}" for i in range(10)]


def test_the_token_is_the_real_servers_shape(store: Store) -> None:
    """base64url JSON with v, rv (the first page's resourceVersion) and start."""
    page = read(store, limit=2)
    raw = base64.urlsafe_b64decode(page.token + "=" * (-len(page.token) % 4))
    assert json.loads(raw) == {
        "v": "meta.k8s.io/v1",
        "rv": store.resource_version,
        "start": "default/p1\0",
    }
    assert page.metadata()["resourceVersion"] == str(store.resource_version)


def test_pages_stay_at_the_first_pages_resource_version(store: Store) -> None:
    """Creates, updates and deletes between pages do not show in later pages:
    every page reads the first page's resourceVersion."""
    first = read(store, limit=4)
    before = names(read(store))
    store.delete(kinds.POD, "default", "p7")
    store.create(kinds.POD, pod("p55"))
    store.mutate(kinds.POD, "default", "p8", lambda p: p["metadata"].update(x="1"))
    pages = [first]
    while pages[-1].token:
        pages.append(read(store, limit=4, **{"continue": pages[-1].token}))
    assert [n for p in pages for n in names(p)] == before
    assert {p.resource_version for p in pages} == {first.resource_version}
    p8 = next(i for p in pages for i in p.items if i["metadata"]["name"] == "p8")
    assert "x" not in p8["metadata"]
    assert "p55" in names(read(store))


def test_selectors_page_with_every_match_and_no_count(store: Store) -> None:
    """With a label or field selector, pages fill with matches, every match is
    listed, and remainingItemCount is left out, as the real server does."""
    for kwargs, wanted in (
        (
            {"labels": "app=web"},
            [f"p{i}" for i in range(1, 10, 2)] + ["q0", "q1", "q2"],
        ),
        (
            {"fields": "metadata.namespace=other"},
            ["q0", "q1", "q2"],
        ),
    ):
        pages = every_page(store, 2, **kwargs)
        assert [n for p in pages for n in names(p)] == wanted
        assert all(p.remaining is None for p in pages)
        assert all(len(p.items) == 2 for p in pages[:-1])


def test_an_expired_token_is_410_with_an_inconsistent_token(store: Store) -> None:
    """Past SNAPSHOT_SECONDS the token is 410 Expired; the Status carries a token
    that goes on at the newest state."""
    first = read(store, limit=5)
    store.create(kinds.POD, pod("p99"))
    later = listing.SNAPSHOT_SECONDS + 1
    with pytest.raises(ApiError) as caught:
        read(store, limit=5, now=later, **{"continue": first.token})
    assert (caught.value.code, caught.value.reason) == (410, "Expired")
    status = caught.value.status()
    token = status["metadata"]["continue"]
    assert listing.decode(token) == (-1, "default/p4\0")
    rest = read(store, limit=50, now=later, **{"continue": token})
    assert names(rest)[:1] == ["p5"]
    assert "p99" in names(rest)


def test_the_oldest_snapshot_goes_past_the_count(store: Store) -> None:
    """At most SNAPSHOTS first pages are kept per cluster: the oldest is 410."""
    tokens = []
    for i in range(listing.SNAPSHOTS + 1):
        tokens.append(read(store, limit=1).token)
        store.create(kinds.POD, pod(f"z{i}"))
    with pytest.raises(ApiError) as caught:
        read(store, limit=1, **{"continue": tokens[0]})
    assert caught.value.code == 410
    assert names(read(store, limit=1, **{"continue": tokens[-1]})) == ["p1"]


def test_an_unchanged_store_needs_no_snapshot(store: Store) -> None:
    """A token at the current resourceVersion reads the current state."""
    token = read(store, limit=3).token
    store.list_snapshots.clear()
    assert names(read(store, limit=3, **{"continue": token})) == ["p3", "p4", "p5"]


@pytest.mark.parametrize(
    ("query", "code", "text"),
    [
        ({"resourceVersionMatch": "Exact"}, 422, "unless resourceVersion"),
        (
            {"resourceVersionMatch": "Exact", "resourceVersion": "0"},
            422,
            'forbidden for resourceVersion "0"',
        ),
        (
            {"resourceVersionMatch": "Soon", "resourceVersion": "5"},
            422,
            "Unsupported value",
        ),
        (
            {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "5"}
            | {"continue": "x"},
            422,
            "forbidden when continue",
        ),
        ({"resourceVersion": "5", "continue": "x"}, 400, "not allowed"),
        ({"limit": "many"}, 400, "invalid syntax"),
        ({"continue": "not base64!"}, 400, "invalid continue token"),
        (
            {"continue": base64.urlsafe_b64encode(b'{"v":"x","rv":5}').decode()},
            400,
            "does not recognize",
        ),
        ({"resourceVersion": "abc"}, 400, "invalid resource version"),
    ],
)
def test_bad_list_options_are_the_real_servers_errors(
    store: Store, query: dict[str, str], code: int, text: str
) -> None:
    """Each bad combination answers the code and message the real server does."""
    with pytest.raises(ApiError) as caught:
        read(store, **query)
    assert caught.value.code == code
    assert text in caught.value.message


def test_exact_reads_a_kept_resource_version_or_410(store: Store) -> None:
    """resourceVersion with a limit (or Exact) reads that version: kept, current,
    else 410; one ahead of the store is 504 too large."""
    first = read(store, limit=2)
    rv = first.resource_version
    store.delete(kinds.POD, "default", "p0")
    exact = read(store, limit=20, resourceVersion=rv)
    assert names(exact)[0] == "p0"
    match = read(store, resourceVersion=rv, resourceVersionMatch="Exact")
    assert names(match)[0] == "p0"
    with pytest.raises(ApiError) as caught:
        read(store, limit=2, resourceVersion=rv - 1)
    assert caught.value.code == 410
    with pytest.raises(ApiError) as ahead:
        read(store, resourceVersion=store.resource_version + 5)
    assert (ahead.value.code, ahead.value.reason) == (504, "Timeout")
    newest = read(store, resourceVersion=rv, resourceVersionMatch="NotOlderThan")
    assert "p0" not in names(newest)


def test_serialize_hands_the_loop_over_and_keeps_json_whole() -> None:
    """A big answer is one JSON document, the loop handed over while it is built."""
    turns = []

    class Counting(Pacer):
        async def turn(self) -> None:
            turns.append(1)
            await super().turn()

    items = [{"n": i} for i in range(50)]
    body = asyncio.run(
        listing.serialize(
            {"kind": "PodList", "metadata": {}},
            "items",
            items,
            lambda item: {"m": item["n"]},
            Counting(),
        )
    )
    assert json.loads(body) == {
        "kind": "PodList",
        "metadata": {},
        "items": [{"m": i} for i in range(50)],
    }
    assert len(turns) == 50
