"""The proxies' shared core: an `Upstream` (one proxy's Router for one host, kept
in step with its `EndpointView`) and `forward`, which sends one HTTP request the
way Envoy does: pick an endpoint, connect for real, retry connect failures on other
hosts (Istio's default 2 retries), report every result to outlier detection.

An east-west gateway endpoint (another network, `mesh.networks`) is a host like
any other: the request goes to the pod that gateway's Envoy picks
(`Router.through`, by its own locality and rule); the client's outlier detection
counts the result against the gateway endpoint. The gateway proxies TCP: a pod it
cannot connect to is a connect failure for the client (retried elsewhere), and the
gateway's own outlier detection counts it against that pod. While the network is
cut off (no gateway istiod knows for it has a ready pod: `eastwest`), connecting
fails before any gateway picks a pod, so only the client counts it.

Ingress gateways use it (`gateway.py`); client proxies (sidecar, ztunnel,
waypoint acting as the HTTP proxy of an exec'd curl) can use it the same way:
build an `Upstream` per (proxy, host) from `ControlPlane.view(host, cluster)` and
call `forward`.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import aiohttp

from chaosext import mesh
from chaosext.lab.endpoints import EndpointView, Snapshot
from chaosext.mesh.virtualservice import Route

log = logging.getLogger("meshdrill.lab.dataplane")

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
NO_HEALTHY_UPSTREAM = "no healthy upstream"
CONNECT_FAILURE = (
    "upstream connect error or disconnect/reset before headers. retried and the "
    "latest reset reason: remote connection failure, transport failure reason: "
    "delayed connect error: 111"
)
ATTEMPT_TIMEOUT = aiohttp.ClientTimeout(total=60.0)
"""No connect timer: every pod listens on 127.0.0.1, where the kernel accepts or
refuses a connect at once. Envoy's connect timeout (Istio's default 10 s) stands
for a network that never answers, which the lab has not got; a timer on the
loop's clock would time the lab's own stalls instead (a CPU-starved lab noticing
an accepted connection late), and outlier detection would eject a healthy pod
for it (tests/lab/test_dataplane_stall.py). `total` only bounds an attempt that
hangs for a reason outside the model."""
FAULT_ABORT = "fault filter abort"
ROUTE_TIMEOUT = "upstream request timeout"
PLAIN = {"content-type": "text/plain", "server": "istio-envoy"}


def upstream_session() -> aiohttp.ClientSession:
    """The connections a proxy keeps to its upstreams, as Envoy keeps them: pooled
    without limit, and passing requests and answers through unchanged, so no
    cookie jar (Envoy keeps no cookies: one client's cookie would reach the next),
    no headers of the client library's own (User-Agent, Accept, Accept-Encoding),
    no decompression."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        auto_decompress=False,
    )


def no_route() -> Route | None:
    return None


class Upstream:
    """A Router for one host at one proxy, updated from its endpoint view."""

    def __init__(
        self,
        proxy: mesh.Proxy,
        view: EndpointView,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        cut_off: Collection[str] = (),
        route: Callable[[], Route | None] = no_route,
    ) -> None:
        self.proxy = proxy
        self.rng = rng or random.Random()
        self.route = route
        """This proxy's VirtualService route for the host, read per request
        (`routes`): fault and timeout."""
        self.cut_off = cut_off
        """Networks this proxy cannot reach unless it is in them (no gateway istiod
        knows for them has a ready pod: `eastwest`); read live."""
        self.view = view
        self.clock = clock
        snapshot = view.current(clock())
        self.router = mesh.Router(proxy, snapshot.service, self.rng)
        self._version = 0
        self._snapshot = snapshot
        self.sync(clock())

    @property
    def host(self) -> str:
        return self.view.host

    def sync(self, now: float) -> Snapshot:
        """Apply the newest visible snapshot to the router (a no-op if unchanged)."""
        snapshot = self.view.current(now)
        if snapshot.version != self._version:
            try:
                self.router.update(snapshot.service, snapshot.endpoints, now=now)
            except ValueError as exc:  # a config the mesh model rejects: keep the old
                log.error(
                    "%s at %s: config rejected: %s", self.host, self.proxy.name, exc
                )
            self._version = snapshot.version
            self._snapshot = snapshot
        return self._snapshot

    def report(self, endpoint: str, status: int | None, now: float) -> None:
        """One attempt's result to the router's outlier detection (None: connect
        failure); an ejection it causes goes to the lab's log (`lab.log`), with
        the result that caused it."""
        was = endpoint in self.router.ejected()
        self.router.report(endpoint, status, now)
        if not was and endpoint in self.router.ejected():
            log.info(
                "%s at %s: %s ejected by outlier detection (%s)",
                self.host,
                self.proxy.name,
                endpoint,
                "connect failure" if status is None else status,
            )


@dataclass
class Reply:
    """What a proxy answers its client."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    endpoint: str | None = None  # the pod that answered
    attempts: int = 0
    upstream_host: str = ""  # `ip:port` of the pod that answered
    flags: str = "-"  # Envoy's response flags: UH no healthy upstream, UF connect


def is_cut_off(upstream: Upstream, endpoint: mesh.Endpoint) -> bool:
    """Whether `endpoint` (a pod, or an east-west gateway endpoint standing for
    pods) is on another network that is cut off (`eastwest`)."""
    network = endpoint.network
    return network != upstream.proxy.network and network in upstream.cut_off


def _request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}


async def forward(
    upstream: Upstream,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes = b"",
) -> Reply:
    """Send one request to `upstream.host` through its router, with Envoy's retries,
    after the route's fault (a delay first, then an abort that contacts no
    upstream), within the route's timeout (504, counted against the host)."""
    route = upstream.route()
    fault = route.fault if route is not None else None
    if fault is not None:
        if fault.delay and upstream.rng.random() * 100 < fault.delay_percent:
            await asyncio.sleep(fault.delay)
        aborts = fault.status is not None
        if aborts and upstream.rng.random() * 100 < fault.abort_percent:
            return Reply(
                int(fault.status or 503), FAULT_ABORT.encode(), PLAIN, flags="FI"
            )
    timeout = route.timeout if route is not None else None
    if timeout is None:
        return await _attempts(upstream, session, method, path, headers, body)
    clock = upstream.clock
    began, trying = clock(), [""]
    try:
        async with asyncio.timeout(timeout):
            return await _attempts(
                upstream, session, method, path, headers, body, trying
            )
    except TimeoutError:
        if clock() - began < timeout:
            raise  # not the route's timeout (cannot happen: attempts catch theirs)
    if trying[0]:
        upstream.report(trying[0], 504, clock())
    return Reply(504, ROUTE_TIMEOUT.encode(), PLAIN, trying[0] or None, flags="UT")


async def _attempts(
    upstream: Upstream,
    session: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    trying: list[str] | None = None,
) -> Reply:
    """The attempts of one request; `trying[0]` names the endpoint being tried."""
    clock = upstream.clock
    snapshot = upstream.sync(clock())
    router = upstream.router
    tried: list[str] = []
    for attempt in range(1 + router.retries):
        endpoint = router.pick(clock(), exclude=tuple(tried))
        if endpoint is None:
            break
        if trying is not None:
            trying[0] = endpoint.name
        pod: mesh.Endpoint | None = None  # the pod the attempt reaches, once known
        try:
            if is_cut_off(upstream, endpoint):
                raise aiohttp.ClientConnectionError(
                    f"{endpoint.network}: east-west gateway down"
                )
            pod = router.through(endpoint, clock())
            if pod is None:
                raise aiohttp.ClientConnectionError(
                    f"{endpoint.name}: the gateway has no endpoint to send to"
                )
            host, port = snapshot.addresses.get(pod.name, ("127.0.0.1", 0))
            if not port:
                raise aiohttp.ClientConnectionError(f"{pod.name} has no address")
            async with session.request(
                method,
                f"http://{host}:{port}{path}",
                headers=_request_headers(headers),
                data=body or None,
                allow_redirects=False,
                timeout=ATTEMPT_TIMEOUT,
            ) as response:
                payload = await response.read()
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            log.debug("%s: %s connect failure: %s", upstream.host, endpoint.name, exc)
            if endpoint.gateway and pod is not None:  # the gateway tried that pod
                router.report_through(endpoint, pod.name, None, clock())
            upstream.report(endpoint.name, None, clock())
            tried.append(endpoint.name)
            continue
        assert pod is not None
        if endpoint.gateway:
            router.report_through(endpoint, pod.name, response.status, clock())
        upstream.report(endpoint.name, response.status, clock())
        reply_headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in HOP_BY_HOP and k.lower() not in ("server", "date")
        }
        reply_headers["server"] = "istio-envoy"
        reply_headers["x-lab-endpoint"] = pod.name
        return Reply(
            response.status,
            payload,
            reply_headers,
            pod.name,
            attempt + 1,
            f"{host}:{port}",
        )
    text = CONNECT_FAILURE if tried else NO_HEALTHY_UPSTREAM
    return Reply(
        503, text.encode(), PLAIN, None, len(tried), flags="URX,UF" if tried else "UH"
    )
