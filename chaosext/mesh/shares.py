"""`predict()`: the expected share of requests per endpoint (explain, tests)."""

from collections.abc import Collection, Sequence

from chaosext.mesh import envoy, ztunnel
from chaosext.mesh.cla import assignment
from chaosext.mesh.types import Assignment, Endpoint, Proxy, ServiceConfig


def _spread(shares: dict[str, float], mass: float, hosts: Sequence[Endpoint]) -> None:
    total = sum(h.lb_weight for h in hosts)
    for host in hosts:
        shares[host.name] = shares.get(host.name, 0.0) + mass * host.lb_weight / total


def shares_for(
    assigned: Assignment, unhealthy: Collection[str] = ()
) -> dict[str, float]:
    """Expected shares for an assignment already computed (see `predict`)."""
    shares: dict[str, float] = {}
    if assigned.mode == "ztunnel":
        best = ztunnel.best_set(assigned)
        if best:
            _spread(shares, 1.0, best)
        return shares
    planned = envoy.plan(assigned, unhealthy)
    if planned.load.no_healthy:
        return {}
    for load, sources in zip(planned.load.loads, planned.sources, strict=True):
        for fraction, hosts in sources:
            if load and hosts:
                _spread(shares, load / 100 * fraction, hosts)
    return {name: share for name, share in shares.items() if share > 0}


def pod_shares(
    assigned: Assignment, unhealthy: Collection[str] = ()
) -> dict[str, float]:
    """Like `shares_for`, with each east-west gateway endpoint's share passed on to
    the pods its gateway sends to (the gateway's own choice, `Assignment.hops`).
    Shares sum below 1 when a gateway has nothing to send to (those requests fail).
    """
    hosts = shares_for(assigned, unhealthy)
    by_name = {e.name: e for e in assigned.endpoints()}
    out: dict[str, float] = {}
    for name, share in hosts.items():
        endpoint = by_name.get(name)
        if endpoint is None or not endpoint.gateway:
            out[name] = out.get(name, 0.0) + share
            continue
        for pod, inner in shares_for(assigned.hops[endpoint.gateway]).items():
            out[pod] = out.get(pod, 0.0) + share * inner
    return {name: share for name, share in out.items() if share > 0}


def predict(
    proxy: Proxy,
    service: ServiceConfig,
    endpoints: Sequence[Endpoint],
    *,
    unhealthy: Collection[str] = (),
) -> dict[str, float]:
    """Expected share of requests per endpoint name, summing to 1.0.

    `{}` when every request would fail (no healthy upstream, everything blackholed, or
    no endpoints). `unhealthy` are hosts ejected by outlier detection (Envoy); endpoints
    with `ready=False` count as unhealthy when sent. For ztunnel `unhealthy` is ignored:
    it has no outlier detection, so a broken endpoint keeps its share until it leaves
    the endpoint list. Pods on other networks reached through an east-west gateway
    get the gateway endpoint's share as that gateway splits it (`pod_shares`).
    """
    return pod_shares(assignment(proxy, service, endpoints), unhealthy)
