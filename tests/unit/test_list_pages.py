"""Reading a big list in pages, as client-go's pager does (`clusters.list_items`,
the live reader's `_Reader.items`): every page followed, and the list read whole
again when a continue token expires (410). A fake list call, no server."""

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kubernetes.client.exceptions import ApiException

from chaosext import clusters
from chaosext.live import reader

ITEMS = [f"pod-{i}" for i in range(1, 1201)]


class FakeList:
    """A list call over ITEMS: pages of `limit` after `_continue` (the index of
    the next item); `expire_at` makes that token answer 410 once."""

    def __init__(self, expire_at: str | None = None, raw: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.expire_at = expire_at
        self.raw = raw

    def __call__(self, **kw: Any) -> Any:
        self.calls.append(kw)
        token = kw.get("_continue")
        if token is not None and token == self.expire_at:
            self.expire_at = None
            raise ApiException(status=410, reason="Gone")
        start = int(token or 0)
        limit = kw.get("limit") or len(ITEMS)
        items = ITEMS[start : start + limit]
        rest = str(start + limit) if start + limit < len(ITEMS) else None
        if self.raw:
            body = {"items": items, "metadata": {"continue": rest} if rest else {}}
            return SimpleNamespace(data=json.dumps(body).encode())
        return SimpleNamespace(items=items, metadata=SimpleNamespace(_continue=rest))


def cluster() -> clusters.Cluster:
    return clusters.Cluster("ctx", Path("kubeconfig"), None, "https://api")  # type: ignore[arg-type]


def test_list_items_follows_every_page() -> None:
    """1,200 items come back whole, 500 a page, each token passed on."""
    fake = FakeList()
    assert clusters.list_items(cluster(), "pods", fake) == ITEMS
    assert [c["limit"] for c in fake.calls] == [clusters.LIST_PAGE] * 3
    assert [c["_continue"] for c in fake.calls] == [None, "500", "1000"]


def test_list_items_reads_whole_again_when_a_token_expires() -> None:
    """A 410 on the second page: the list is read again without a limit."""
    fake = FakeList(expire_at="500")
    assert clusters.list_items(cluster(), "pods", fake) == ITEMS
    assert "limit" not in fake.calls[-1]
    assert len(fake.calls) == 3


def test_the_live_reader_pages_and_counts_each_page() -> None:
    """The live reader's raw pages: every item, one call per page."""
    fake = FakeList(raw=True)
    read = reader._Reader(cluster())
    assert read.items("pods", fake) == ITEMS
    assert read.calls == 3


def test_the_live_reader_reads_whole_again_on_410() -> None:
    """An expired token during the live read: the list is read again whole."""
    fake = FakeList(expire_at="1000", raw=True)
    read = reader._Reader(cluster())
    assert read.items("pods", fake) == ITEMS
    assert "limit" not in fake.calls[-1]
