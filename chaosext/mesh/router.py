"""`Router`: the runtime state of one proxy for one host (the data plane keeps one per
(proxy, host)). It turns EDS pushes, request results and time into endpoint choices.
"""

import random
from collections.abc import Collection, Sequence

from chaosext.mesh import envoy, networks, ztunnel
from chaosext.mesh.cla import assignment
from chaosext.mesh.outlier import OutlierDetector
from chaosext.mesh.types import Assignment, Endpoint, Outlier, Proxy, ServiceConfig

DEFAULT_RETRIES = 2
"""Istio's default route retry: 2 retries on connect-failure, refused-stream,
unavailable, cancelled, retriable-status-codes (none listed, so HTTP 503 responses are
not retried), with the previous_hosts predicate ([I] `route/retry/retry.go:36-50`)."""

HOST_SELECTION_RETRIES = 5
"""Istio's host_selection_retry_max_attempts: previous_hosts re-picks up to 5 times."""


def _cluster_key(a: Assignment) -> tuple[Outlier | None, float, bool]:
    return (a.outlier, a.panic_threshold, a.locality_weighted)


class Router:
    """Envoy (gateway, sidecar, waypoint) or ztunnel endpoint choice with live state.

    Envoy: priority load from health, locality weights where Istio turns them on, and
    outlier detection fed by `report`. A config change that changes the Envoy cluster
    (outlier settings, panic threshold, locality-weighted LB) makes a new cluster, so
    outlier state starts over, as with a CDS update. ztunnel: the best-ranked set,
    weighted random per connection; no outlier detection and no retries (`retries` 0).
    East-west gateway endpoints (other networks, `networks.split_horizon`) are
    hosts like any other here: their outlier state is the client's, so one
    ejection takes every pod behind that gateway endpoint out at once. Which pod a
    gateway sends to is its own Envoy's choice: `through` (one Router per gateway,
    kept with this one; a real gateway shares that state among all its clients).
    Not thread-safe: callers sharing one Router across threads must hold a lock.
    """

    retries: int

    def __init__(
        self, proxy: Proxy, service: ServiceConfig, rng: random.Random
    ) -> None:
        self.proxy = proxy
        self.service = service
        self._rng = rng
        self.retries = DEFAULT_RETRIES if proxy.is_envoy else 0
        self._assignment = assignment(proxy, service, ())
        self._detector = self._new_detector(self._assignment)
        self._plan: envoy.Plan | None = None
        self._hops: dict[str, Router] = {}

    @property
    def assignment(self) -> Assignment:
        """The assignment from the last `update`."""
        return self._assignment

    @staticmethod
    def _new_detector(a: Assignment) -> OutlierDetector | None:
        if a.mode != "envoy" or a.outlier is None:
            return None
        return OutlierDetector(a.outlier)

    def update(
        self,
        service: ServiceConfig,
        endpoints: Sequence[Endpoint],
        *,
        now: float | None = None,
    ) -> None:
        """A new EDS push (and possibly new config). Hosts that left lose their outlier
        state; re-added hosts start fresh. `now`, if given, runs due ticks first."""
        if now is not None:
            self.tick(now)
        new = assignment(self.proxy, service, endpoints)
        if _cluster_key(new) != _cluster_key(self._assignment):
            self._detector = self._new_detector(new)
            if self._detector is not None and now is not None:
                self._detector.start(now)
        self.service = service
        self._assignment = new
        if self._detector is not None:
            self._detector.set_hosts(e.name for e in new.endpoints())
        self._plan = None
        hops: dict[str, Router] = {}
        for name in new.hops:
            proxy, config, mine = networks.hop(
                service, endpoints, networks.gateway_named(service, name)
            )
            hop = self._hops.get(name)
            if hop is None or hop.proxy != proxy:
                hop = Router(proxy, config, self._rng)
            hop.update(config, mine, now=now)
            hops[name] = hop
        self._hops = hops

    def through(self, host: Endpoint, now: float) -> Endpoint | None:
        """The pod an east-west gateway endpoint's gateway sends the next request
        to (None: it has none to send to). Any other host is its own pod."""
        if not host.gateway:
            return host
        hop = self._hops.get(host.gateway)
        return hop.pick(now) if hop is not None else None

    def report_through(
        self, host: Endpoint, pod: str, status: int | None, now: float
    ) -> None:
        """What the gateway behind `host` saw of `pod`: it proxies TCP, so only
        whether the connection opened (None: connect failure; else success)."""
        hop = self._hops.get(host.gateway)
        if hop is not None:
            hop.report(pod, None if status is None else 200, now)

    def tick(self, now: float) -> None:
        """Advance time: runs every outlier interval tick that has elapsed."""
        if self._detector is not None and self._detector.advance(now):
            self._plan = None

    def ejected(self) -> frozenset[str]:
        """Hosts currently ejected by outlier detection (always empty for ztunnel)."""
        return self._detector.ejected() if self._detector is not None else frozenset()

    def report(self, endpoint_name: str, status: int | None, now: float) -> None:
        """The result of a request to `endpoint_name`: an HTTP status, or None for a
        connect failure (counts as 503). A no-op for ztunnel and without
        outlierDetection.
        """
        self.tick(now)
        if self._detector is not None and self._detector.record(
            endpoint_name, status, now
        ):
            self._plan = None

    def pick(self, now: float, exclude: Collection[str] = ()) -> Endpoint | None:
        """The endpoint for the next request, or None (503 no healthy upstream, or
        blackholed). `exclude` are hosts already tried (previous_hosts): Envoy re-picks
        up to 5 times and, failing that, returns the last pick even if tried."""
        self.tick(now)
        if self._assignment.mode == "ztunnel":
            return self._pick_ztunnel(exclude)
        host: Endpoint | None = None
        for _ in range(1 + (HOST_SELECTION_RETRIES if exclude else 0)):
            host = self._pick_envoy_once()
            if host is None or host.name not in exclude:
                return host
        return host

    def _weighted(self, hosts: Sequence[Endpoint]) -> Endpoint | None:
        if not hosts:
            return None
        total = sum(h.lb_weight for h in hosts)
        draw = self._rng.random() * total
        for host in hosts:
            draw -= host.lb_weight
            if draw < 0:
                return host
        return hosts[-1]

    def _pick_ztunnel(self, exclude: Collection[str]) -> Endpoint | None:
        best = ztunnel.best_set(self._assignment)
        allowed = [h for h in best if h.name not in exclude]
        return self._weighted(allowed or best)

    def _pick_envoy_once(self) -> Endpoint | None:
        if self._plan is None:
            self._plan = envoy.plan(self._assignment, self.ejected())
        plan = self._plan
        if plan.load.no_healthy:
            return None
        priority = envoy.choose_priority(plan.load.loads, self._rng.randrange(100) + 1)
        sources = plan.sources[priority]
        if not sources:
            return None
        draw = self._rng.random()
        hosts = sources[-1][1]
        for fraction, candidates in sources:
            draw -= fraction
            if draw < 0:
                hosts = candidates
                break
        return self._weighted(hosts)
