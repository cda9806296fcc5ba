"""Per-client mesh proxies: the HTTP proxy an exec'd `curl` talks to via `http_proxy`.

Each client pod of the topology gets one `ClientProxy` on 127.0.0.1 (port 0). It
takes absolute-URI requests (`GET http://host:8000/path`, as curl sends them through
a proxy), turns the host into a mesh host, and routes it the way the client's
data plane would:

- `sidecar`: the client's own Envoy (`mesh.Proxy(kind="sidecar")`), DestinationRules
  and outlier detection relative to the client's locality;
- `ztunnel`: L4, the best-ranked endpoints for the Service's traffic distribution,
  chosen once per client connection (a keep-alive curl sticks to one pod, as with a
  real ztunnel), no outlier detection, no retries; a failure resets the connection
  (curl exit 52/56); unless the destination Service (or its namespace)
  is labelled `istio.io/use-waypoint=<name>`: then ztunnel hands the request to that
  waypoint in the client's own cluster, and the waypoint (an Envoy standing at ITS
  locality) applies the DestinationRule;
- `waypoint`: always through the destination namespace's waypoint of the client's
  cluster, label or not.

Unknown hosts get 502 (a real pod would fail DNS instead). Endpoint choice and
forwarding are the lab's data plane (`dataplane.Upstream`, `dataplane.forward`):
one Router per (proxy, host), so outlier state is per client proxy (and per
waypoint, shared by the clients that use it), and endpoint changes arrive after the
topology's propagation delay. The waypoint label is read live from the store.
"""

import logging
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from chaosext import mesh
from chaosext.lab import accesslog, dataplane, httpserve, kinds
from chaosext.lab.accesslog import ProxyLog
from chaosext.lab.endpointindex import service_hosts
from chaosext.lab.store import Obj, Store
from chaosext.mesh import kube, names

log = logging.getLogger("meshdrill.lab.clientproxy")

USE_WAYPOINT_LABEL = names.USE_WAYPOINT
NO_WAYPOINT = names.NO_WAYPOINT  # `istio.io/use-waypoint: none` opts a Service out
MODES = ("sidecar", "ztunnel", "waypoint")  # a topology client's `proxy:`


@dataclass(frozen=True)
class WaypointRef:
    """A waypoint the lab runs: its mesh proxy identity."""

    name: str
    namespace: str
    proxy: mesh.Proxy


@dataclass(frozen=True)
class Choice:
    """Which proxy chooses the endpoint for one request from a client."""

    proxy: mesh.Proxy | None  # None: the request cannot be routed (see `error`)
    waypoint: str | None = None
    error: str | None = None
    l4_only: bool = False  # ztunnel straight to pods: failures are connection resets


UpstreamFactory = Callable[[mesh.Proxy, str], dataplane.Upstream]
AccessLogOf = Callable[[str, WaypointRef], ProxyLog | None]
"""(cluster, waypoint) -> the access log its pod writes to, None when off."""


def candidate_hosts(host: str, namespace: str) -> list[str]:
    """The mesh hosts a name may mean from a pod in `namespace` (DNS search path)."""
    return kube.candidate_hosts(host, namespace)


class Mesh:
    """What every client proxy shares: stores, waypoints, upstreams, one session."""

    def __init__(
        self,
        stores: Mapping[str, Store],
        waypoints: Mapping[tuple[str, str, str], WaypointRef],
        make_upstream: UpstreamFactory | None = None,
        access_log: AccessLogOf | None = None,
    ) -> None:
        self.stores = stores
        self.waypoints = waypoints  # (cluster, namespace, name) -> waypoint
        self.make_upstream = make_upstream
        self.access_log = access_log
        self._upstreams: dict[tuple[str, str, str, str], dataplane.Upstream] = {}
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = dataplane.upstream_session()

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def upstream(self, proxy: mesh.Proxy, host: str) -> dataplane.Upstream:
        """The Router state of `proxy` for `host` (made on first use, then kept)."""
        key = (proxy.kind, proxy.cluster, proxy.name, host)
        upstream = self._upstreams.get(key)
        if upstream is None:
            if self.make_upstream is None:
                raise RuntimeError("this Mesh predicts only: it makes no upstreams")
            upstream = self._upstreams[key] = self.make_upstream(proxy, host)
        return upstream

    def services_for(self, host: str) -> list[tuple[str, Obj]]:
        """(cluster, Service) for every Service serving the mesh host."""
        return [
            (cluster, service)
            for cluster, store in self.stores.items()
            for service in store.objects(kinds.SERVICE)
            if host in service_hosts(service)
        ]

    def resolve_host(self, host: str, namespace: str) -> str | None:
        """The mesh host `host` names from a pod in `namespace`, if any Service
        serves it."""
        for candidate in candidate_hosts(host, namespace):
            if self.services_for(candidate):
                return candidate
        return None

    def waypoint_name(self, host: str, cluster: str) -> tuple[str, str] | None:
        """(namespace, waypoint) the destination uses, read live: the Service's
        `istio.io/use-waypoint` label, else its namespace's (the client's cluster's
        copy first)."""
        found = self.services_for(host)
        found.sort(key=lambda item: item[0] != cluster)
        if not found:
            return None
        owner, service = found[0]
        meta = service["metadata"]
        value = (meta.get("labels") or {}).get(USE_WAYPOINT_LABEL)
        if value is None:
            ns = self.stores[owner].peek(kinds.NAMESPACE, "", meta["namespace"])
            labels = (ns or {}).get("metadata", {}).get("labels") or {}
            value = labels.get(USE_WAYPOINT_LABEL)
        if not value or value == NO_WAYPOINT:
            return None
        return meta["namespace"], value

    def choose(self, client: mesh.Proxy, mode: str, host: str) -> Choice:
        """Who picks the endpoint when `client` (with proxy `mode`) calls `host`:
        its sidecar; ztunnel itself; or the waypoint of the client's cluster."""
        if mode == "sidecar":
            return Choice(client)
        use = self.waypoint_name(host, client.cluster)
        if use is None and mode == "waypoint":
            namespaces = {
                s["metadata"]["namespace"] for _, s in self.services_for(host)
            }
            use = next(
                (
                    (ns, name)
                    for (cluster, ns, name) in self.waypoints
                    if cluster == client.cluster and ns in namespaces
                ),
                None,
            )
            if use is None:
                return Choice(None, error=f"no waypoint for {host} in {client.cluster}")
        if use is None:
            return Choice(client, l4_only=True)
        namespace, name = use
        waypoint = self.waypoints.get((client.cluster, namespace, name))
        if waypoint is None:
            return Choice(
                None,
                waypoint=name,
                error=f"waypoint {namespace}/{name} does not run in cluster "
                f"{client.cluster}",
            )
        return Choice(waypoint.proxy, waypoint=name)


class ClientProxy:
    """The mesh proxy of one client pod, as an HTTP proxy on 127.0.0.1."""

    def __init__(
        self, shared: Mesh, proxy: mesh.Proxy, namespace: str, mode: str
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"client {proxy.name}: proxy must be one of {MODES}")
        self.shared = shared
        self.proxy = proxy  # the client's sidecar, or (ztunnel) the client workload
        self.namespace = namespace
        self.mode = mode
        self.port = 0
        self._runner: web.BaseRunner | None = None
        # ztunnel: the endpoint each client connection is pinned to, per host
        self._pins: weakref.WeakKeyDictionary[Any, dict[str, str]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> int:
        self._runner = await httpserve.listen(
            self._handle, client_max_size=16 * 1024 * 1024
        )
        self.port = self._runner.addresses[0][1]
        log.info(
            "client %s (%s, cluster %s) proxy on %s",
            self.proxy.name,
            self.mode,
            self.proxy.cluster,
            self.url,
        )
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method == "CONNECT":
            return _text(501, "the lab's mesh proxy does not tunnel CONNECT (https)")
        name = request.url.host or request.host.partition(":")[0]
        host = self.shared.resolve_host(name, self.namespace)
        if host is None:
            return _text(502, f"no Service in the mesh serves host {name!r}")
        route = self.shared.choose(self.proxy, self.mode, host)
        if route.proxy is None:
            return _text(503, route.error or "no route")
        body = await request.read()
        if route.l4_only:
            return await self._l4(request, host, body)
        assert self.shared.session is not None
        started, clock = time.time(), time.monotonic()
        reply = await dataplane.forward(
            self.shared.upstream(route.proxy, host),
            self.shared.session,
            request.method,
            request.path_qs,
            request.headers,
            body,
        )
        headers = dict(reply.headers)
        if route.waypoint:
            headers["x-lab-waypoint"] = route.waypoint
            took = round((time.monotonic() - clock) * 1000)
            self._log_access(request, route, host, len(body), reply, started, took)
        return web.Response(status=reply.status, body=reply.body, headers=headers)

    def _log_access(
        self,
        request: web.BaseRequest,
        route: Choice,
        host: str,
        received: int,
        reply: dataplane.Reply,
        started: float,
        took_ms: int,
    ) -> None:
        """The waypoint's access-log line for this request, if its log is on."""
        if route.proxy is None or not route.waypoint or not self.shared.access_log:
            return
        key = (self.proxy.cluster, route.proxy.namespace, route.waypoint)
        ref = self.shared.waypoints.get(key)
        if ref is None:
            return
        log = self.shared.access_log(self.proxy.cluster, ref)
        if log is None:
            return
        port = request.url.port or 80
        peer = (
            request.transport.get_extra_info("peername") if request.transport else None
        )
        remote = f"{peer[0]}:{peer[1]}" if peer else "-"
        log.log.append(
            accesslog.line(
                accesslog.Access(
                    start=started,
                    method=request.method,
                    path=request.path_qs,
                    protocol=f"HTTP/{request.version.major}.{request.version.minor}",
                    status=reply.status,
                    flags=reply.flags,
                    details="via_upstream" if reply.endpoint else _details(reply),
                    bytes_received=received,
                    bytes_sent=len(reply.body),
                    duration_ms=took_ms,
                    upstream_ms=took_ms if reply.endpoint else None,
                    user_agent=request.headers.get("user-agent", ""),
                    request_id=accesslog.request_id(request.headers),
                    authority=request.headers.get("host", f"{host}:{port}"),
                    upstream_host=reply.upstream_host,
                    upstream_cluster=f"inbound-vip|{port}|http|{host}",
                    downstream_local=f"127.0.0.1:{self.port}",
                    downstream_remote=remote,
                )
            )
        )

    async def _l4(
        self, request: web.BaseRequest, host: str, body: bytes
    ) -> web.Response:
        """ztunnel straight to a pod: one endpoint per client connection (picked on
        its first request), kept while the pod is an endpoint; no retries, no
        outlier detection; a failure resets the client's connection."""
        upstream = self.shared.upstream(self.proxy, host)
        now = upstream.clock()
        snapshot = upstream.sync(now)
        pins: dict[str, str] = {}
        if request.transport is not None:
            pins = self._pins.setdefault(request.transport, {})
        name = pins.get(host)
        if name is None or name not in {e.name for e in snapshot.endpoints}:
            endpoint = upstream.router.pick(now)
            if endpoint is None:
                return _reset(request, f"no endpoint for {host}")
            name = pins[host] = endpoint.name
        ip, port = snapshot.addresses.get(name, ("127.0.0.1", 0))
        assert self.shared.session is not None
        try:
            if not port:
                raise aiohttp.ClientConnectionError(f"{name} has no address")
            if upstream.cut_off and any(
                e.name == name and dataplane.is_cut_off(upstream, e)
                for e in snapshot.endpoints
            ):
                raise aiohttp.ClientConnectionError(f"{name}: east-west gateway down")
            async with self.shared.session.request(
                request.method,
                f"http://{ip}:{port}{request.path_qs}",
                headers=_strip(request.headers),
                data=body or None,
                allow_redirects=False,
                timeout=dataplane.ATTEMPT_TIMEOUT,
            ) as response:
                payload = await response.read()
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            pins.pop(host, None)
            return _reset(request, f"{host}: {name}: {exc}")
        headers = _strip(response.headers)
        headers["x-lab-endpoint"] = name
        return web.Response(status=response.status, body=payload, headers=headers)


def _details(reply: dataplane.Reply) -> str:
    if reply.flags == "UH":
        return "no_healthy_upstream"
    return "upstream_reset_before_response_started{remote_connection_failure}"


def _strip(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in dataplane.HOP_BY_HOP}


def _reset(request: web.BaseRequest, why: str) -> web.Response:
    """What an L4 proxy does when it cannot connect: reset the client's connection
    (the response returned is never written: the transport is gone)."""
    log.debug("ztunnel reset: %s", why)
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=503, text=why)


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")
