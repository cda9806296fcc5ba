"""A lab that is late is not a pod that fails.

Every pod of the lab listens on 127.0.0.1: the kernel accepts (or refuses) a
connect at once, whatever the lab's event loop is doing. A lab starved of CPU can
notice that answer seconds later; a connect timer running on the loop's clock then
fires first, and the attempt used to count as a connect failure: outlier detection
(guide 000: consecutive5xxErrors 1, baseEjectionTime 30 s) ejected a healthy pod,
and after a scale-back one of cluster A's two zones had weight but no healthy host
for 30 s (cluster A at 1/3 instead of 1/2: a region-outage drill failed its
recovery). Here the stall is a jump of the loop's clock right after the kernel
accepted the connection, so nothing depends on how fast this machine is.
"""

import asyncio
import logging
import socket

import aiohttp
import pytest

from chaosext import mesh
from chaosext.lab import dataplane
from chaosext.lab.endpoints import EndpointView
from chaosext.lab.podserver import NO_FAULT, PodServer

HOST = "hello-world.default.svc.cluster.local"
STALL = 30.0
"""Seconds the lab's loop falls behind: longer than Istio's default connect timeout
(10 s), shorter than the attempt's overall safety bound."""

GUIDE_000_OUTLIER = {
    "consecutive5xxErrors": 1,
    "interval": "1s",
    "baseEjectionTime": "30s",
    "maxEjectionPercent": 100,
}


def _gateway_to(port: int) -> dataplane.Upstream:
    """guide 000's ingress gateway with one pod of cluster A listening on `port`."""
    zone_b = mesh.Locality("europe-west1", "europe-west1-b")
    proxy = mesh.Proxy(
        "gateway", "istio-ingressgateway", "cluster-a", "network-a", zone_b
    )
    pod = mesh.Endpoint("hello-world-a", "cluster-a", "network-a", zone_b)
    config = mesh.ServiceConfig(
        HOST,
        destination_rule={
            "host": HOST,
            "trafficPolicy": {"outlierDetection": GUIDE_000_OUTLIER},
        },
    )
    view = EndpointView(
        HOST,
        "cluster-a",
        0.0,
        (config, (pod,), {"hello-world-a": ("127.0.0.1", port)}),
        proxy,
    )
    return dataplane.Upstream(proxy, view)


async def _forward_through_a_stall() -> tuple[int, frozenset[str]]:
    """One request through the gateway to a listening pod; the loop's clock jumps
    `STALL` s once, right after the kernel accepted the connection."""
    loop = asyncio.get_running_loop()
    offset = [0.0]
    real_time = loop.time
    real_sock_connect = loop.sock_connect
    stalled: list[bool] = []

    async def sock_connect(sock: object, address: object) -> None:
        await real_sock_connect(sock, address)  # type: ignore[arg-type]
        if not stalled:  # the kernel has accepted; the lab's loop falls behind
            stalled.append(True)
            offset[0] += STALL

    loop.time = lambda: real_time() + offset[0]  # type: ignore[method-assign]
    loop.sock_connect = sock_connect  # type: ignore[method-assign]
    server = PodServer("hello-world-a", lambda: NO_FAULT)
    try:
        upstream = _gateway_to(await server.start())
        async with aiohttp.ClientSession() as session:
            reply = await dataplane.forward(upstream, session, "GET", "/", {})
        assert stalled, "the request never connected"
        return reply.status, upstream.router.ejected()
    finally:
        loop.time = real_time  # type: ignore[method-assign]
        loop.sock_connect = real_sock_connect  # type: ignore[method-assign]
        await server.stop()


def test_a_stalled_lab_does_not_eject_a_listening_pod() -> None:
    """The pod accepted the connection: the request is answered, nothing ejected."""
    status, ejected = asyncio.run(_forward_through_a_stall())
    assert (status, ejected) == (200, frozenset())


async def _forward_to_a_pod_that_refuses() -> tuple[int, frozenset[str]]:
    # A port held but not listened on: the kernel refuses connections to it, and
    # nothing else on this machine can take it meanwhile.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        upstream = _gateway_to(held.getsockname()[1])
        async with aiohttp.ClientSession() as session:
            reply = await dataplane.forward(upstream, session, "GET", "/", {})
    return reply.status, upstream.router.ejected()


def test_a_refused_connection_ejects_the_pod_and_the_lab_log_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real connect failure still counts (503, ejected on the first one), and
    the ejection is in the lab's log with its cause."""
    caplog.set_level(logging.INFO, logger=dataplane.log.name)
    status, ejected = asyncio.run(_forward_to_a_pod_that_refuses())
    assert (status, ejected) == (503, frozenset({"hello-world-a"}))
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [
        f"{HOST} at istio-ingressgateway: hello-world-a ejected by outlier"
        " detection (connect failure)"
    ]
