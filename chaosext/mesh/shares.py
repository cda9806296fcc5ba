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
    the endpoint list.
    """
    return shares_for(assignment(proxy, service, endpoints), unhealthy)
