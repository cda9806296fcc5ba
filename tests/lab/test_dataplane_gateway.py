"""`dataplane.forward` to an east-west gateway endpoint: what the gateway's own Envoy
is told (`Router.report_through`). It hears of a pod only when it picked one and
tried to connect to it; when the client cannot reach the gateway at all (the
network is cut off, `eastwest`), the gateway saw nothing and is told nothing."""

import asyncio
from typing import cast

import aiohttp

from chaosext import mesh
from chaosext.lab import dataplane
from chaosext.lab.endpoints import EndpointView, Snapshot

N1, N2 = "n1", "n2"


def locality(region: str, zone: str) -> mesh.Locality:
    return mesh.Locality(region, zone)


class FixedView:
    """An endpoint view that always shows one snapshot."""

    host = "h"

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def current(self, now: float) -> Snapshot:
        return self.snapshot


def remote_only() -> dataplane.Upstream:
    """A sidecar on n1 whose only endpoint is pod b0 on n2, behind n2's gateway
    (b0 has no address: the gateway cannot connect to it)."""
    sidecar = mesh.Proxy("sidecar", "sleep", "c1", N1, locality("r1", "z1"))
    gateway_envoy = mesh.Proxy(
        "gateway", "eastwest-0", "c2", N2, locality("r2", "z1"), namespace="ns"
    )
    gateway = mesh.NetworkGateway(N2, "c2", "c2/ns/eastwest", gateway_envoy, None)
    service = mesh.ServiceConfig("h", None, None, network_gateways=(gateway,))
    pod = mesh.Endpoint("b0", "c2", N2, locality("r2", "z1"))
    view = FixedView(Snapshot(1, service, (pod,), {}))
    return dataplane.Upstream(sidecar, cast(EndpointView, view), cut_off={N2})


def forward_recording(
    upstream: dataplane.Upstream,
) -> tuple[dataplane.Reply, list[tuple[str, str, int | None]]]:
    """One request; every `report_through(host, pod, status)` the router got."""
    calls: list[tuple[str, str, int | None]] = []
    real = upstream.router.report_through

    def spy(host: mesh.Endpoint, pod: str, status: int | None, now: float) -> None:
        calls.append((host.name, pod, status))
        real(host, pod, status, now)

    upstream.router.report_through = spy  # type: ignore[method-assign]

    async def run() -> dataplane.Reply:
        async with aiohttp.ClientSession() as session:
            return await dataplane.forward(upstream, session, "GET", "/", {})

    return asyncio.run(run()), calls


def test_a_cut_off_gateway_is_told_of_no_pod() -> None:
    """n2 cut off: connect failures for the client, the gateway endpoint not
    reported to its own gateway as if it were a pod behind it."""
    upstream = remote_only()
    assert [e.gateway for e in upstream.router.assignment.endpoints()] == [
        "c2/ns/eastwest"
    ]
    reply, calls = forward_recording(upstream)
    assert (reply.status, reply.flags) == (503, "URX,UF")
    assert reply.attempts >= 1
    assert calls == []


def test_a_reachable_gateway_is_told_of_the_pod_it_could_not_reach() -> None:
    """n2 reachable: the gateway picked b0 and failed to connect to it, so its
    outlier detection hears of b0 (a connect failure)."""
    upstream = remote_only()
    upstream.cut_off = ()
    reply, calls = forward_recording(upstream)
    gateway_host = upstream.router.assignment.endpoints()[0].name
    assert reply.status == 503
    assert calls
    assert set(calls) == {(gateway_host, "b0", None)}
