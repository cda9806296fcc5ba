"""Subresources: deployments/scale (autoscaling/v1 Scale), */status, pods/eviction.

Each handler has the signature the API server's subresource registry expects:
`async (request, call) -> web.StreamResponse`.
"""

from typing import Any

from aiohttp import web

from chaosext.lab import admission, kinds, portforward, rest, selectors
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Obj


def _scale_of(deploy: Obj) -> dict[str, Any]:
    meta = deploy["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": deploy["spec"].get("replicas", 0)},
        "status": {
            "replicas": deploy.get("status", {}).get("replicas", 0),
            "selector": selectors.selector_string(deploy["spec"].get("selector")),
        },
    }


async def scale(request: web.Request, call: rest.Call) -> web.StreamResponse:
    """GET, PUT or PATCH a Deployment's replicas through its Scale."""
    assert call.name is not None
    namespace = call.namespace or ""
    # The body first: no await between reading the Deployment and storing it.
    body = None if request.method == "GET" else await rest.read_json(request)
    deploy = call.store.get(call.kind, namespace, call.name)
    current = _scale_of(deploy)
    if request.method == "GET":
        return rest.respond(current)
    if request.method == "PUT":
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be a Scale object")
        wanted = body
        given_rv = (body.get("metadata") or {}).get("resourceVersion")
        if given_rv and given_rv != deploy["metadata"]["resourceVersion"]:
            raise ApiError.conflict(
                call.kind.group,
                call.kind.plural,
                call.name,
                "the object has been modified; please apply your changes to the "
                "latest version and try again",
            )
    elif request.method == "PATCH":
        wanted = rest.patched(call, request, current, body)
    else:
        raise ApiError(405, f"{request.method} is not allowed on a scale subresource")
    replicas = (wanted.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise ApiError.invalid(
            f"spec.replicas: Invalid value: {replicas!r}: must be greater than or "
            "equal to 0",
            "Scale.autoscaling",
            call.name,
        )
    deploy["spec"]["replicas"] = replicas
    if not rest.dry_run(request):
        deploy = call.store.replace(call.kind, deploy, keep_status=True)
    return rest.respond(_scale_of(deploy))


async def status(request: web.Request, call: rest.Call) -> web.StreamResponse:
    """GET the object, or PUT/PATCH only its status."""
    assert call.name is not None
    body = None if request.method == "GET" else await rest.read_json(request)
    old = call.store.get(call.kind, call.namespace or "", call.name)
    if request.method == "GET":
        return rest.respond(call.render(old))
    if request.method == "PUT":
        if not isinstance(body, dict):
            raise ApiError.bad_request("the request body must be an object")
        new_status = body.get("status")
    elif request.method == "PATCH":
        new_status = rest.patched(call, request, old, body).get("status")
    else:
        raise ApiError(405, f"{request.method} is not allowed on a status subresource")
    obj = dict(old)
    obj["status"] = new_status or {}
    obj = admission.admit(call.store, call.kind, obj, old)
    if rest.dry_run(request):
        return rest.respond(call.render(obj))
    return rest.respond(call.render(call.store.replace(call.kind, obj)))


async def eviction(request: web.Request, call: rest.Call) -> web.StreamResponse:
    """POST a policy/v1 Eviction: the pod is deleted gracefully (no PDBs here)."""
    assert call.name is not None
    if request.method != "POST":
        raise ApiError(405, "only POST (create) is allowed on pods/eviction")
    body = await rest.read_json(request) or {}
    if not isinstance(body, dict):
        raise ApiError.bad_request("the request body must be an Eviction object")
    name = (body.get("metadata") or {}).get("name")
    if name and name != call.name:
        raise ApiError.bad_request("name in URL does not match name in Eviction object")
    options = body.get("deleteOptions") or {}
    grace = options.get("gracePeriodSeconds")
    if not rest.dry_run(request):
        rest.delete_pod(call.store, call.namespace or "", call.name, grace)
    return rest.respond(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "code": 201,
        },
        201,
    )


DEFAULTS = {
    (kinds.DEPLOYMENT.group, kinds.DEPLOYMENT.plural, "scale"): scale,
    (kinds.POD.group, kinds.POD.plural, "portforward"): portforward.serve,
    (kinds.POD.group, kinds.POD.plural, "eviction"): eviction,
    **{
        (k.group, k.plural, "status"): status
        for k in kinds.KINDS
        if "status" in k.subresources
    },
}
