"""Lists as kube-apiserver serves them: `limit` and `continue` paging, each list
read at one resourceVersion, and big answers serialized a slice at a time.

Paging. `?limit=N` answers at most N items; when more are left, the list's
`metadata.continue` holds a token and, for a list without label or field
selector, `metadata.remainingItemCount` says how many items are left. The token
is what the real server sends: base64url of `{"v":"meta.k8s.io/v1","rv":RV,
"start":KEY}`, KEY being the stored key after the last item (relative to the
list's prefix, `namespace/name\\0` across namespaces, `name\\0` within one).

Consistency. The real server reads every page of one list at the first page's
resourceVersion from etcd, until etcd compacts that revision (every 5 minutes by
default); an older token is 410 Gone, reason `Expired`, with a token that goes
on at the newest resourceVersion (inconsistently) in the Status's
`metadata.continue`. The lab keeps, for each first page that left items over, a
snapshot of the kind's keys and stored objects (references, not copies: a write
stores a new object and never changes a stored one) for `SNAPSHOT_SECONDS`, at
most `SNAPSHOTS` per cluster (the oldest goes first); a token whose snapshot is
gone is 410 as above. Pages after the first apply the request's own selectors to
the snapshot, as the real server applies them to what it reads.

resourceVersion. Unset or "0": the newest state. With `resourceVersionMatch=
Exact`, or a resourceVersion other than "0" with a `limit` (the legacy rule):
that resourceVersion exactly, from a snapshot kept for it or the current state,
else 410 (too old) or 504 (too large; the real server waits up to 3 s for its
cache first). `NotOlderThan` (or a resourceVersion without limit): the newest
state, 504 if the resourceVersion is ahead of it. The validation errors are the
real server's: 422 for `resourceVersionMatch` without a resourceVersion, with
`continue`, with "0" and Exact, or of an unknown value; 400 for a resourceVersion
other than "0" with `continue`, and for a token that does not decode.

Serialization. Each item is rendered and dumped in turn, the loop handed over
every `pacing.SLICE` (`serialize`), and a big answer is sent `CHUNK` bytes at a
time (`send`): a 2,000-pod list no longer holds the loop for the whole answer.
The items are the stored objects read at one resourceVersion, so what changes
during a turn does not reach the answer.
"""

import asyncio
import base64
import binascii
import bisect
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from chaosext.lab import kinds, selectors, store
from chaosext.lab.errors import ApiError
from chaosext.lab.pacing import Pacer
from chaosext.lab.store import Obj, Store

CONTINUE_VERSION = "meta.k8s.io/v1"
SNAPSHOT_SECONDS = 300.0
"""How long a continue token stays good: kube-apiserver's default etcd compaction
interval (`--etcd-compaction-interval`, 5 minutes)."""
SNAPSHOTS = 8
"""Snapshots kept per cluster at most: each holds a kind's objects alive as they
were (a 2,000-pod snapshot whose pods all changed since holds 2,000 old pods)."""
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list "
    "result. You can start a new list without the continue parameter, or use the "
    "continue token in this response to retrieve the remainder of the results. "
    "Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was "
    "returned and now may show up in the list."
)
LIST_EXPIRED = "The resourceVersion for the provided list is too old."

Key = tuple[str, str]


@dataclass(frozen=True)
class Snapshot:
    """A kind's stored objects at one resourceVersion, sorted by key."""

    resource_version: int
    keys: list[Key]
    objects: list[Obj]
    taken: float


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, resourceVersion and what is left."""

    items: list[Obj]
    resource_version: int
    token: str = ""
    remaining: int | None = None

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(self.resource_version)}
        if self.token:
            meta["continue"] = self.token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta


@dataclass(frozen=True)
class Options:
    """A list request's paging and consistency options, validated."""

    limit: int = 0
    token: str = ""
    resource_version: str = ""
    match: str = ""

    @classmethod
    def parse(cls, query: Any) -> "Options":
        text = query.get("limit", "")
        try:
            limit = int(text) if text else 0
        except ValueError:
            raise ApiError.bad_request(
                f'strconv.ParseInt: parsing "{text}": invalid syntax'
            ) from None
        options = cls(
            limit=max(limit, 0),
            token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
            match=query.get("resourceVersionMatch", ""),
        )
        options.validate()
        return options

    def validate(self) -> None:
        if self.match:
            if not self.resource_version:
                _invalid(
                    "resourceVersionMatch is forbidden unless resourceVersion "
                    "is provided"
                )
            if self.token:
                _invalid("resourceVersionMatch is forbidden when continue is provided")
            if self.match not in ("Exact", "NotOlderThan"):
                raise _list_options_error(
                    f'resourceVersionMatch: Unsupported value: "{self.match}": '
                    'supported values: "Exact", "NotOlderThan"'
                )
            if self.match == "Exact" and self.resource_version == "0":
                _invalid(
                    'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
                )
        if self.token and self.resource_version not in ("", "0"):
            raise ApiError.bad_request(
                "specifying resource version is not allowed when using continue"
            )
        if self.resource_version not in ("", "0"):
            try:
                int(self.resource_version)
            except ValueError:
                raise ApiError.bad_request(
                    f'invalid resource version "{self.resource_version}"'
                ) from None

    @property
    def exact(self) -> bool:
        """A read at exactly the given resourceVersion."""
        given = self.resource_version not in ("", "0")
        return given and (self.match == "Exact" or (not self.match and self.limit > 0))


def _list_options_error(message: str) -> ApiError:
    return ApiError(
        422,
        f'ListOptions.meta.k8s.io "" is invalid: {message}',
        "Invalid",
        {"group": "meta.k8s.io", "kind": "ListOptions"},
    )


def _invalid(why: str) -> None:
    raise _list_options_error(f"resourceVersionMatch: Forbidden: {why}")


def _too_large(given: int, current: int) -> ApiError:
    return ApiError(
        504,
        f"Too large resource version: {given}, current: {current}",
        "Timeout",
        {
            "causes": [
                {
                    "reason": "ResourceVersionTooLarge",
                    "message": "Too large resource version",
                }
            ],
            "retryAfterSeconds": 1,
        },
    )


# tokens


def encode(resource_version: int, start: str) -> str:
    """The continue token the real server sends (base64url, no padding)."""
    text = json.dumps(
        {"v": CONTINUE_VERSION, "rv": resource_version, "start": start},
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str) -> tuple[int, str]:
    """(resourceVersion, start key) of a token; 400 when it is not one."""

    def bad(why: str) -> ApiError:
        return ApiError.bad_request(
            f"invalid continue token: continue key is not valid: {why}"
        )

    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise bad(str(exc)) from None
    if not isinstance(data, dict) or data.get("v") != CONTINUE_VERSION:
        raise bad("server does not recognize this encoded version")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv == 0:
        raise bad(
            f"incorrect encoded start resourceVersion (version {CONTINUE_VERSION})"
        )
    if not isinstance(start, str) or not start:
        raise bad("encoded start key is empty")
    if start.startswith("/") or "/../" in f"/{start}":
        raise bad("continue key may not contain a relative path")
    return rv, start


def _start_key(kind: kinds.Kind, namespace: str | None, start: str) -> Key:
    """The stored key a token's start names, within the list's prefix."""
    if not kind.namespaced:
        return ("", start)
    if namespace is not None:
        return (namespace, start)
    ns, _, name = start.partition("/")
    return (ns, name)


def _relative(namespace: str | None, key: Key) -> str:
    """A key as the token holds it: after the list's prefix, then a NUL (the
    first key after it)."""
    ns, name = key
    return (f"{name}" if namespace is not None or not ns else f"{ns}/{name}") + "\0"


# snapshots


def take(st: Store, kind: kinds.Kind, now: float) -> Snapshot:
    """The kind's objects now (not yet kept)."""
    keys, objects = st.sorted_objects(kind)
    return Snapshot(st.resource_version, keys, objects, now)


def keep(st: Store, kind: kinds.Kind, snap: Snapshot, now: float) -> None:
    """Keep `snap` for the tokens that name it, dropping the expired and, past
    `SNAPSHOTS`, the oldest."""
    kept = _kept(st, now)
    kept[(kind.key, snap.resource_version)] = snap
    while len(kept) > SNAPSHOTS:
        del kept[next(iter(kept))]


def kept(st: Store, kind: kinds.Kind, rv: int, now: float) -> Snapshot | None:
    """The kept snapshot of `kind` at `rv`, if it has not expired."""
    return _kept(st, now).get((kind.key, rv))


def _kept(st: Store, now: float) -> dict[Any, Snapshot]:
    snapshots: dict[Any, Snapshot] = st.list_snapshots
    for key in [k for k, s in snapshots.items() if now - s.taken > SNAPSHOT_SECONDS]:
        del snapshots[key]
    return snapshots


# pages


def read(
    st: Store,
    kind: kinds.Kind,
    namespace: str | None,
    label_selector: str | None,
    field_selector: str | None,
    options: Options,
    clock: Callable[[], float] = time.monotonic,
) -> Page:
    """The page `options` ask for (every item without a limit)."""
    labels = selectors.parse_labels(label_selector)
    fields = selectors.parse_fields(field_selector, kind.plural)
    now = clock()
    current = st.resource_version
    start: Key | None = None
    if options.token:
        rv, relative = decode(options.token)
        start = _start_key(kind, namespace, relative)
        snap = kept(st, kind, rv, now)
        if snap is None and rv in (-1, current):
            snap = take(st, kind, now)  # nothing was written since: now is then
        if snap is None:
            token = encode(-1, relative)
            raise ApiError(
                410, CONTINUE_EXPIRED, "Expired", list_meta={"continue": token}
            )
    elif options.exact:
        rv = int(options.resource_version)
        if rv > current:
            raise _too_large(rv, current)
        snap = take(st, kind, now) if rv == current else kept(st, kind, rv, now)
        if snap is None:
            raise ApiError(410, LIST_EXPIRED, "Expired")
    else:
        if options.resource_version not in ("", "0"):
            given = int(options.resource_version)
            if given > current:
                raise _too_large(given, current)
        snap = take(st, kind, now)
    lo, hi = 0, len(snap.keys)
    if kind.namespaced and namespace is not None:
        lo = bisect.bisect_left(snap.keys, namespace, key=lambda k: k[0])
        hi = bisect.bisect_right(snap.keys, namespace, key=lambda k: k[0])
    if start is not None:
        lo = max(lo, bisect.bisect_left(snap.keys, start))
    items: list[Obj] = []
    index = lo
    while index < hi:
        obj = snap.objects[index]
        index += 1
        if store.matches(obj, labels, fields):
            items.append(obj)
            if options.limit and len(items) == options.limit:
                break
    if index >= hi or not options.limit:
        return Page(items, snap.resource_version)
    if kept(st, kind, snap.resource_version, now) is None:
        keep(st, kind, snap, now)
    token = encode(snap.resource_version, _relative(namespace, snap.keys[index - 1]))
    remaining = None if labels or fields else hi - index
    return Page(items, snap.resource_version, token, remaining)


async def serialize(
    head: dict[str, Any],
    field: str,
    items: Iterable[Any],
    render: Callable[[Any], Any],
    pacer: Pacer | None = None,
) -> bytes:
    """`head` with `field` set to the rendered items, as compact JSON, the loop
    handed over between items once a slice has passed (`pacing.Pacer`)."""
    pacer = pacer or Pacer()
    parts = []
    for item in items:
        parts.append(json.dumps(render(item), separators=(",", ":")))
        await pacer.turn()
    text = json.dumps(head, separators=(",", ":"))
    assert text.endswith("}")
    glue = "," if len(text) > 2 else ""
    body = f'{text[:-1]}{glue}"{field}":[{",".join(parts)}]}}'
    return body.encode()


CHUNK = 256 * 1024
"""Bytes of a big answer encrypted and sent in one turn of the loop (`send`)."""


async def send(request: web.Request, body: bytes) -> web.StreamResponse:
    """`body` as a JSON answer; a big one written `CHUNK` bytes at a time, the
    loop handed over between (TLS encrypts each write as it is made: 2.6 MB at
    once held the loop for ~25 ms)."""
    if len(body) <= CHUNK:
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(body)
    await response.prepare(request)
    view = memoryview(body)
    for start in range(0, len(body), CHUNK):
        await response.write(view[start : start + CHUNK])
        await asyncio.sleep(0)
    await response.write_eof()
    return response
