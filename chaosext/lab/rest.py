"""REST verbs on resources: list, get, create, update (PUT), patch, delete.

Each handler takes the aiohttp request and the resolved `Call` (which kind, version,
namespace, name) and answers JSON shaped like the real API server's.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from chaosext.lab import (
    admission,
    events,
    fieldvalidation,
    kinds,
    kubeproto,
    listing,
    managedfields,
    patching,
    tables,
)
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj, Store

JSON = "application/json"


@dataclass(frozen=True)
class Call:
    """A resolved API request: which resource, and where in the cluster."""

    store: Store
    kind: kinds.Kind
    version: str
    namespace: str | None  # None: cluster-scoped kind, or a list across namespaces
    name: str | None
    subresource: str | None = None

    @property
    def cluster(self) -> str:
        return self.store.cluster

    def field_selector(self, request: web.Request) -> str | None:
        """The request's field selector, in the stored objects' field names."""
        text = request.query.get("fieldSelector")
        return events.core_field_selector(text) if self.kind is kinds.EVENT_V1 else text

    def render(self, obj: Obj) -> Obj:
        """The object as served at the requested version."""
        if self.kind is kinds.EVENT_V1:
            obj = events.to_events_v1(obj)
        obj["apiVersion"] = self.kind.api_version(self.version)
        obj["kind"] = self.kind.kind
        return obj


def respond(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        content_type=JSON,
    )


async def read_json(request: web.Request) -> Any:
    if request.content_type == kubeproto.MEDIA_TYPE:
        return kubeproto.decode(await request.read())
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError.bad_request(
            f"the request body is not valid JSON: {exc}"
        ) from exc


def wants_table(request: web.Request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def dry_run(request: web.Request) -> bool:
    return "All" in request.query.getall("dryRun", [])


def status_success(call: Call, obj: Obj) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": obj["metadata"]["name"],
            "group": call.kind.group,
            "kind": call.kind.plural,
            "uid": obj["metadata"].get("uid", ""),
        },
    }


async def list_objects(request: web.Request, call: Call) -> web.StreamResponse:
    """A list, or one page of it (`limit`, `continue`), read at one
    resourceVersion and serialized a slice at a time (`listing`)."""
    query = request.query
    page = listing.read(
        call.store,
        call.kind,
        call.namespace,
        query.get("labelSelector"),
        call.field_selector(request),
        listing.Options.parse(query),
    )

    def render(obj: Obj) -> Obj:
        return call.render(dict(obj))

    if wants_table(request):
        include = query.get("includeObject", "Metadata")
        body = await listing.serialize(
            tables.head(call.kind, page.metadata()),
            "rows",
            page.items,
            lambda obj: tables.row(call.kind, obj, include, render),
        )
    else:
        head = {
            "kind": f"{call.kind.kind}List",
            "apiVersion": call.kind.api_version(call.version),
            "metadata": page.metadata(),
        }
        body = await listing.serialize(head, "items", page.items, render)
    return await listing.send(request, body)


async def get_object(request: web.Request, call: Call) -> web.Response:
    assert call.name is not None
    obj = call.store.get(call.kind, call.namespace or "", call.name)
    if wants_table(request):
        rv = str(call.store.resource_version)
        include = request.query.get("includeObject", "Metadata")
        return respond(tables.table(call.kind, [obj], rv, include, call.render))
    return respond(call.render(obj))


def _check_identity(call: Call, body: Any, name: str | None) -> Obj:
    if not isinstance(body, dict):
        raise ApiError.bad_request("the request body must be a JSON object")
    if call.kind is kinds.EVENT_V1:
        body = events.from_events_v1(body) | {"kind": call.kind.kind}
    kind = body.get("kind")
    if kind is not None and kind != call.kind.kind:
        raise ApiError.bad_request(
            f"the body is a {kind}, but the URL is for {call.kind.plural}"
        )
    meta = body.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise ApiError.bad_request("metadata must be an object")
    if call.kind.namespaced:
        given = meta.get("namespace")
        if given and call.namespace and given != call.namespace:
            raise ApiError.bad_request(
                "the namespace of the provided object does not match the namespace "
                "sent on the request"
            )
        meta["namespace"] = call.namespace or given or "default"
    if name is not None:
        if meta.get("name") and meta["name"] != name:
            raise ApiError.bad_request(
                "the name of the object does not match the name on the URL"
            )
        meta["name"] = name
    return body


def _namespace_exists(call: Call, namespace: str) -> None:
    if call.store.peek(kinds.NAMESPACE, "", namespace) is None:
        raise ApiError.not_found("", "namespaces", namespace)


async def create_object(request: web.Request, call: Call) -> web.StreamResponse:
    raw = await read_json(request)
    warnings = fieldvalidation.check(request, call.kind, call.version, raw)
    body = _check_identity(call, raw, None)
    if call.kind.namespaced:
        _namespace_exists(call, body["metadata"]["namespace"])
    obj = admission.admit(call.store, call.kind, body, None)
    _managed(request, call, None, obj)
    if not dry_run(request):
        obj = call.store.create(call.kind, obj)
    return fieldvalidation.warn(respond(call.render(obj), 201), warnings)


def _keep_status(call: Call) -> bool:
    return call.kind.key in admission.STATUS_KINDS


async def replace_object(request: web.Request, call: Call) -> web.StreamResponse:
    raw = await read_json(request)
    warnings = fieldvalidation.check(request, call.kind, call.version, raw)
    body = _check_identity(call, raw, call.name)
    old = call.store.get(call.kind, call.namespace or "", body["metadata"]["name"])
    obj = admission.admit(call.store, call.kind, body, old)
    _managed(request, call, old, obj)
    if not dry_run(request):
        obj = call.store.replace(call.kind, obj, keep_status=_keep_status(call))
    return fieldvalidation.warn(respond(call.render(obj)), warnings)


def patched(call: Call, request: web.Request, old: Obj, body: Any) -> Obj:
    """`old` with the request's patch applied, name and namespace kept."""
    if call.kind is kinds.EVENT_V1:
        old = events.to_events_v1(old)
    if call.kind.crd and request.content_type == patching.STRATEGIC_PATCH:
        raise ApiError(
            415,
            "the body of the request was in an unknown format - accepted media "
            f"types include: {patching.JSON_PATCH}, {patching.MERGE_PATCH}, "
            f"{patching.APPLY_PATCH}",
        )
    new = patching.apply(request.content_type, old, body)
    if not isinstance(new.get("metadata"), dict):
        raise ApiError.invalid("metadata: Required value", call.kind.kind)
    for field in ("name", "namespace"):
        if field in old["metadata"]:
            new["metadata"][field] = old["metadata"][field]
    return new


async def patch_object(request: web.Request, call: Call) -> web.StreamResponse:
    assert call.name is not None
    # Read the body before the object: no await may fall between reading the object
    # and storing the patched one, or a controller's update in between would make
    # a patch without resourceVersion conflict, which a real API server never does.
    if request.content_type == patching.APPLY_PATCH:
        return await apply_object(request, call)
    body = await read_json(request)
    old = call.store.get(call.kind, call.namespace or "", call.name)
    new = patched(call, request, old, body)
    json_patch = request.content_type == patching.JSON_PATCH
    checked = new if json_patch else body
    warnings = fieldvalidation.check(request, call.kind, call.version, checked)
    if call.kind is kinds.EVENT_V1:
        new = events.from_events_v1(new)
    obj = admission.admit(call.store, call.kind, new, old)
    _managed(request, call, old, obj)
    if not dry_run(request):
        obj = call.store.replace(call.kind, obj, keep_status=_keep_status(call))
    return fieldvalidation.warn(respond(call.render(obj)), warnings)


def _managed(request: web.Request, call: Call, old: Obj | None, new: Obj) -> None:
    """Record the write's changed fields for its field manager."""
    manager = managedfields.manager_of(
        request.query, request.headers.get("User-Agent", "")
    )
    version = call.kind.api_version(call.version)
    managedfields.record_update(old, new, manager, version, call.kind.crd)


async def apply_object(request: web.Request, call: Call) -> web.StreamResponse:
    """Server-side apply: PATCH with application/apply-patch+yaml."""
    assert call.name is not None
    config = managedfields.read_config(await request.read())
    warnings = fieldvalidation.check(request, call.kind, call.version, config)
    manager = request.query.get("fieldManager")
    if not manager:
        raise ApiError.bad_request(
            "PATCH with application/apply-patch+yaml requires a fieldManager"
        )
    _check_identity(call, config, call.name)
    old = call.store.peek(call.kind, call.namespace or "", call.name)
    if old is None and call.kind.namespaced:
        _namespace_exists(call, config["metadata"]["namespace"])
    force = request.query.get("force", "").lower() == "true"
    version = call.kind.api_version(call.version)
    new = managedfields.apply(
        old, config, manager, version, force=force, crd=call.kind.crd
    )
    obj = admission.admit(call.store, call.kind, new, old)
    if not dry_run(request):
        if old is None:
            obj = call.store.create(call.kind, obj)
        else:
            obj = call.store.replace(call.kind, obj, keep_status=_keep_status(call))
    status = 201 if old is None else 200
    return fieldvalidation.warn(respond(call.render(obj), status), warnings)


async def delete_options(request: web.Request) -> dict[str, Any]:
    body = await read_json(request)
    options = dict(body) if isinstance(body, dict) else {}
    if "gracePeriodSeconds" in request.query:
        options["gracePeriodSeconds"] = int(request.query["gracePeriodSeconds"])
    return options


def delete_pod(store: Store, namespace: str, name: str, grace: int | None) -> Obj:
    """Graceful pod deletion: mark it, the kubelet stops it (unscheduled: gone now)."""
    pod = store.get(kinds.POD, namespace, name)
    if grace is None:
        grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
    meta = pod["metadata"]
    if grace <= 0 or not pod["spec"].get("nodeName"):
        return store.delete(kinds.POD, namespace, name)
    if meta.get("deletionTimestamp"):
        return pod
    deadline = datetime.now(UTC) + timedelta(seconds=grace)
    meta["deletionTimestamp"] = deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    meta["deletionGracePeriodSeconds"] = grace
    return store.replace(kinds.POD, pod)


def delete_namespace(store: Store, name: str) -> Obj:
    """Delete a namespace and everything in it."""
    namespace = store.get(kinds.NAMESPACE, "", name)
    for kind in kinds.KINDS:
        if kind.namespaced:
            for obj in list(store.objects(kind, name)):
                store.delete(kind, name, obj["metadata"]["name"])
    store.delete(kinds.NAMESPACE, "", name)
    namespace["status"] = {"phase": "Terminating"}
    return namespace


async def delete_object(request: web.Request, call: Call) -> web.Response:
    assert call.name is not None
    options = await delete_options(request)
    if dry_run(request):
        return respond(
            call.render(call.store.get(call.kind, call.namespace or "", call.name))
        )
    if call.kind is kinds.POD:
        grace = options.get("gracePeriodSeconds")
        pod = delete_pod(call.store, call.namespace or "", call.name, grace)
        return respond(call.render(pod))
    if call.kind is kinds.NAMESPACE:
        return respond(call.render(delete_namespace(call.store, call.name)))
    gone = call.store.delete(call.kind, call.namespace or "", call.name)
    return respond(status_success(call, gone))


async def delete_collection(request: web.Request, call: Call) -> web.Response:
    options = await delete_options(request)
    items = call.store.list(
        call.kind,
        call.namespace,
        request.query.get("labelSelector"),
        call.field_selector(request),
    )
    for obj in items:
        ns, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        if call.kind is kinds.POD:
            delete_pod(call.store, ns, name, options.get("gracePeriodSeconds"))
        elif call.kind is kinds.NAMESPACE:
            delete_namespace(call.store, name)
        else:
            call.store.delete(call.kind, ns, name)
    return respond(
        {
            "kind": f"{call.kind.kind}List",
            "apiVersion": call.kind.api_version(call.version),
            "metadata": {"resourceVersion": str(call.store.resource_version)},
            "items": [call.render(obj) for obj in items],
        }
    )
