"""One cluster's Kubernetes API server: aiohttp on 127.0.0.1, bearer token required.

Routing is done here by hand (one catch-all route) because Kubernetes paths are
ambiguous for a pattern router (`/api/v1/namespaces/x` is a Namespace,
`/api/v1/namespaces/x/pods` a list). Resource verbs live in `rest`, watches in
`watch`, subresources in a registry: `ApiServer.add_subresource(group, plural,
name, handler)` is the hook for more (e.g. `pods/exec`), with handlers
`async (request, call: rest.Call) -> web.StreamResponse`. Routes added to
`ApiServer.app.router` before `start()` also take precedence over the dispatcher
(and pass through the same token check).
"""

import asyncio
import dataclasses
import hmac
import logging
import ssl
from collections.abc import Awaitable, Callable

from aiohttp import web

from chaosext.lab import authz, discovery, kinds, openapi, rest, subresources, watch
from chaosext.lab.errors import ApiError
from chaosext.lab.store import Store

log = logging.getLogger("meshdrill.lab.api")

SubresourceHandler = Callable[[web.Request, rest.Call], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNAUTHENTICATED = ("/healthz", "/livez", "/readyz")
CONNECT = ("exec", "attach", "portforward")

VERBS = {
    ("GET", False): rest.list_objects,
    ("POST", False): rest.create_object,
    ("DELETE", False): rest.delete_collection,
    ("GET", True): rest.get_object,
    ("PUT", True): rest.replace_object,
    ("PATCH", True): rest.patch_object,
    ("DELETE", True): rest.delete_object,
}


class ApiServer:
    """The API server of one cluster, serving its `Store`."""

    def __init__(
        self, store: Store, token: str, authorizer: authz.Authorizer | None = None
    ) -> None:
        self.store = store
        self.token = token
        self.authorizer = authorizer or authz.Authorizer()
        self.request_log: authz.RequestLog | None = None
        """Where each resource request is recorded (set by the lab's runner)."""
        self.url = ""
        self.closing = asyncio.Event()
        self.subresources: dict[tuple[str, str, str], SubresourceHandler] = dict(
            subresources.DEFAULTS
        )
        # Routes a plugin adds to `app.router` before `start` come first; the
        # catch-all dispatcher is added last, in `start`.
        self.app = web.Application(middlewares=[self._errors, self._auth])
        self._runner: web.AppRunner | None = None

    @property
    def cluster(self) -> str:
        return self.store.cluster

    def add_subresource(
        self, group: str, plural: str, name: str, handler: SubresourceHandler
    ) -> None:
        """Serve `<plural>/{name}/<name>` (e.g. "", "pods", "exec") with `handler`."""
        self.subresources[(group, plural, name)] = handler

    async def start(
        self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1"
    ) -> str:
        """Listen on an ephemeral port (HTTPS when given a context); return the URL."""
        self.app.router.add_route("*", "/{path:.*}", self.dispatch)
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0, ssl_context=ssl_context)
        await site.start()
        bound = self._runner.addresses[0][1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://{host}:{bound}"
        log.info("cluster %s: API server on %s", self.cluster, self.url)
        return self.url

    async def stop(self) -> None:
        self.closing.set()
        if self.request_log is not None:
            self.request_log.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # middlewares

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return rest.respond(exc.status(), exc.code)
        except web.HTTPException:
            raise
        except Exception as exc:
            log.exception(
                "cluster %s: %s %s failed", self.cluster, request.method, request.path
            )
            error = ApiError(500, f"internal error in the lab: {exc}")
            return rest.respond(error.status(), 500)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNAUTHENTICATED:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            raise ApiError(401, "Unauthorized")
        return await handler(request)

    # routing

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] in ("healthz", "livez", "readyz"):
            return web.Response(text="ok")
        if parts == ["version"]:
            return rest.respond(discovery.version())
        if parts == ["openapi", "v2"]:
            accept = request.headers.get("Accept", "")
            if "protobuf" in accept and "json" not in accept:
                raise ApiError(
                    406,
                    "the lab serves /openapi/v2 as application/json only (kubectl "
                    "explain reads /openapi/v3)",
                )
            return rest.respond(openapi.swagger())
        if parts == ["openapi", "v3"]:
            return rest.respond(openapi.root())
        if parts[:2] == ["openapi", "v3"]:
            doc = openapi.group_version(parts[2:])
            if doc is not None:
                return rest.respond(doc)
        if parts[0] == "openapi":
            raise ApiError(404, "the lab serves no such OpenAPI document")
        if parts == ["api"]:
            host = request.host or self.url.split("://", 1)[-1]
            return rest.respond(discovery.core_versions(host))
        if parts == ["apis"]:
            return rest.respond(discovery.group_list())
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest_parts = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2:
                doc = discovery.group(group)
                if doc is None:
                    raise ApiError(404, f"the server could not find the group {group}")
                return rest.respond(doc)
            version, rest_parts = parts[2], parts[3:]
        else:
            raise ApiError(404, "the server could not find the requested resource")
        if not rest_parts:
            resources = discovery.resource_list(group, version)
            if resources is None:
                raise ApiError(404, f"the server could not find {request.path}")
            return rest.respond(resources)
        call = self.resolve(group, version, rest_parts)
        return await self.handle(request, call)

    def resolve(self, group: str, version: str, parts: list[str]) -> rest.Call:
        """Turn the path after `/api/v1` or `/apis/<g>/<v>` into a `Call`."""
        namespace: str | None = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            candidate = kinds.find(group, version, parts[2])
            if candidate is not None and candidate.namespaced:
                namespace, parts = parts[1], parts[2:]
        kind = kinds.find(group, version, parts[0])
        if kind is None or len(parts) > 3:
            raise ApiError(404, "the server could not find the requested resource")
        tail = parts[1:]
        if kind.namespaced and namespace is None and tail:
            raise ApiError(404, "the server could not find the requested resource")
        return rest.Call(
            store=self.store,
            kind=kind,
            version=version,
            namespace=namespace,
            name=tail[0] if tail else None,
            subresource=tail[1] if len(tail) > 1 else None,
        )

    def authorize(self, request: web.Request, call: rest.Call) -> None:
        """Record the request, then let it through or answer 403 Forbidden."""
        attrs = authz.Attributes(
            verb=authz.request_verb(
                request.method, call.name is not None, authz.is_watch(request)
            ),
            group=call.kind.group,
            resource=call.kind.plural,
            subresource=call.subresource or "",
            namespace=call.namespace or "",
            name=call.name or "",
        )
        checks = [attrs]
        if attrs.subresource in CONNECT and _websocket(request):
            # Kubernetes >= 1.31 (AuthorizePodWebsocketUpgradeCreatePermission):
            # a websocket GET on exec/attach/portforward also needs `create`.
            checks.append(dataclasses.replace(attrs, verb="create"))
        for check in checks:
            if self.request_log is not None:
                self.request_log.write(self.cluster, check)
            if call.kind not in kinds.REVIEWS:
                self.authorizer.check(check)

    async def handle(self, request: web.Request, call: rest.Call) -> web.StreamResponse:
        self.authorize(request, call)
        if call.kind in kinds.REVIEWS:
            if request.method != "POST" or call.name is not None:
                raise ApiError(405, f"{request.method} is not allowed here")
            answer = self.authorizer.review(
                call.kind.kind, await rest.read_json(request)
            )
            return rest.respond(call.render(answer), 201)
        if call.subresource is not None:
            key = (call.kind.group, call.kind.plural, call.subresource)
            sub = self.subresources.get(key)
            if sub is None:
                raise ApiError(
                    404,
                    f"the server could not find the requested resource "
                    f"({call.kind.plural}/{call.subresource})",
                )
            return await sub(request, call)
        collection = call.name is None
        if collection and request.method == "GET" and authz.is_watch(request):
            return await watch.serve(request, call, self.closing)
        no_namespace = call.kind.namespaced and call.namespace is None
        if collection and request.method == "POST" and no_namespace:
            raise ApiError(404, "the server could not find the requested resource")
        verb = VERBS.get((request.method, call.name is not None))
        if verb is None:
            raise ApiError(405, f"{request.method} is not allowed here")
        return await verb(request, call)


def _websocket(request: web.Request) -> bool:
    return request.method == "GET" and (
        request.headers.get("Upgrade", "").lower() == "websocket"
    )
