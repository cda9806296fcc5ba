"""One cluster's objects, in memory: what etcd and the API server's registry hold.

Objects are plain JSON dicts, copied on the way in and out. Every write bumps the
cluster's resourceVersion and is announced to listeners (controllers, the data
plane's control plane, watches) and kept in a short history for watches that resume
from a resourceVersion.
"""

import secrets
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chaosext.lab import selectors
from chaosext.lab.errors import ApiError
from chaosext.lab.kinds import Kind

Obj = dict[str, Any]
HISTORY = 4096


def clone(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars): copy.deepcopy's result,
    several times faster (no memo: JSON data has no shared or cyclic parts)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def timestamp() -> str:
    """Now, as Kubernetes writes times (RFC 3339, seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    """One change: ADDED, MODIFIED or DELETED, with the object before and after."""

    type: str
    kind: Kind
    object: Obj
    old: Obj | None
    resource_version: int


Listener = Callable[[Event], None]


def key_of(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])


class Store:
    """The objects of one cluster, by kind, namespace and name."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._buckets: dict[tuple[str, str], dict[tuple[str, str], Obj]] = {}
        self._rv = 1000
        self._history: deque[Event] = deque(maxlen=HISTORY)
        self._listeners: list[Listener] = []
        self.event_cache: dict[tuple[Any, ...], Any] = {}
        """The event recorder's memory of this cluster's events (`events.record`:
        which stored Event a repeat counts into, which similar ones it has seen)."""
        self.list_snapshots: dict[Any, Any] = {}
        """The snapshots continue tokens read from (`listing`), as etcd keeps old
        revisions until it compacts them."""

    @property
    def resource_version(self) -> int:
        return self._rv

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` after every write; returns how to unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def events_since(self, resource_version: int) -> list[Event] | None:
        """Events after `resource_version`; None once the history lost some."""
        if resource_version >= self._rv:
            return []
        if (
            not self._history
            or self._history[0].resource_version > resource_version + 1
        ):
            return None
        return [e for e in self._history if e.resource_version > resource_version]

    # reads

    def _bucket(self, kind: Kind) -> dict[tuple[str, str], Obj]:
        return self._buckets.setdefault(kind.key, {})

    def peek(self, kind: Kind, namespace: str, name: str) -> Obj | None:
        """The stored object itself (do not mutate), or None."""
        return self._bucket(kind).get((namespace if kind.namespaced else "", name))

    def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        obj = self.peek(kind, namespace, name)
        if obj is None:
            raise ApiError.not_found(kind.group, kind.plural, name)
        return clone(obj)

    def count(self, kind: Kind) -> int:
        return len(self._bucket(kind))

    def objects(self, kind: Kind, namespace: str | None = None) -> Iterator[Obj]:
        """The stored objects themselves (do not mutate), sorted by namespace/name."""
        bucket = self._bucket(kind)
        for key in sorted(bucket):
            if namespace is None or key[0] == namespace:
                yield bucket[key]

    def sorted_objects(self, kind: Kind) -> tuple[list[tuple[str, str]], list[Obj]]:
        """The keys (namespace, name) of every object of `kind`, sorted, and the
        stored objects themselves (do not mutate), in the same order."""
        bucket = self._bucket(kind)
        keys = sorted(bucket)
        return keys, [bucket[key] for key in keys]

    def list(
        self,
        kind: Kind,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        *,
        copies: bool = True,
    ) -> list[Obj]:
        """Copies of the objects matching the namespace and selectors (without
        `copies`, the stored objects themselves: read them, never change them)."""
        labels = selectors.parse_labels(label_selector)
        fields = selectors.parse_fields(field_selector, kind.plural)
        return [
            clone(obj) if copies else obj
            for obj in self.objects(kind, namespace)
            if matches(obj, labels, fields)
        ]

    # writes

    def _commit(self, type_: str, kind: Kind, obj: Obj, old: Obj | None) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        if type_ != "DELETED":
            self._bucket(kind)[key_of(obj)] = obj
        event = Event(type_, kind, obj, old, self._rv)
        self._history.append(event)
        for listener in list(self._listeners):
            listener(event)
        return clone(obj)

    def create(self, kind: Kind, obj: Obj) -> Obj:
        """Store a new object, filling uid, resourceVersion, creationTimestamp."""
        obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _suffix()
        if not meta.get("name"):
            raise ApiError.invalid("metadata.name: Required value", kind.kind)
        if not kind.namespaced:
            meta.pop("namespace", None)
        if self.peek(kind, meta.get("namespace", ""), meta["name"]) is not None:
            raise ApiError.already_exists(kind.group, kind.plural, meta["name"])
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = timestamp()
        for field in ("resourceVersion", "deletionTimestamp"):
            meta.pop(field, None)
        if kind.group:
            meta["generation"] = 1
        obj["apiVersion"] = kind.api_version()
        obj["kind"] = kind.kind
        return self._commit("ADDED", kind, obj, None)

    def replace(self, kind: Kind, obj: Obj, *, keep_status: bool = False) -> Obj:
        """Store a new version of an existing object (PUT semantics).

        A stale `metadata.resourceVersion` in `obj` is a 409 Conflict. With
        `keep_status`, the stored status wins (writes to the main resource of a
        kind with a status subresource do not change its status).
        """
        return self._replace(kind, clone(obj), keep_status)

    def _replace(self, kind: Kind, obj: Obj, keep_status: bool = False) -> Obj:
        """`replace` of an object that is the caller's own copy (it is stored)."""
        meta = obj.setdefault("metadata", {})
        old = self.peek(kind, meta.get("namespace", ""), meta.get("name", ""))
        if old is None:
            raise ApiError.not_found(kind.group, kind.plural, meta.get("name", ""))
        old_meta = old["metadata"]
        given_rv = meta.get("resourceVersion")
        if given_rv and given_rv != old_meta["resourceVersion"]:
            raise ApiError.conflict(
                kind.group,
                kind.plural,
                old_meta["name"],
                "the object has been modified; please apply your changes to the "
                "latest version and try again",
            )
        for field in ("uid", "creationTimestamp", "name", "namespace", "generation"):
            if field in old_meta:
                meta[field] = old_meta[field]
        if "deletionTimestamp" in old_meta:
            meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
            meta["deletionGracePeriodSeconds"] = old_meta.get(
                "deletionGracePeriodSeconds", 0
            )
        if keep_status and "status" in old:
            obj["status"] = clone(old["status"])
        if kind.group and obj.get("spec") != old.get("spec"):
            meta["generation"] = old_meta.get("generation", 1) + 1
        obj["apiVersion"] = kind.api_version()
        obj["kind"] = kind.kind
        if obj == old:
            return clone(old)  # a no-op write changes nothing, as in Kubernetes
        return self._commit("MODIFIED", kind, obj, old)

    def mutate(
        self, kind: Kind, namespace: str, name: str, change: Callable[[Obj], None]
    ) -> Obj:
        """Apply `change` to a copy of the object and store it if anything changed."""
        current = self.get(kind, namespace, name)
        change(current)
        return self._replace(kind, current)

    def delete(self, kind: Kind, namespace: str, name: str) -> Obj:
        """Remove an object now; returns it."""
        bucket = self._bucket(kind)
        key = (namespace if kind.namespaced else "", name)
        old = bucket.pop(key, None)
        if old is None:
            raise ApiError.not_found(kind.group, kind.plural, name)
        return self._commit("DELETED", kind, clone(old), old)


def matches(
    obj: Obj,
    labels: list[selectors.Requirement],
    fields: list[selectors.FieldRequirement],
) -> bool:
    return selectors.labels_match(labels, obj["metadata"].get("labels") or {}) and all(
        f.matches(obj) for f in fields
    )


def _suffix(length: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' rand.String alphabet
    return "".join(secrets.choice(alphabet) for _ in range(length))
