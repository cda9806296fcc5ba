"""Ingress gateways: an HTTP server on 127.0.0.1 per topology `gateways:` entry that
sends every request to its route's host through the data plane (`dataplane.forward`).
The lab exposes it as a LoadBalancer Service whose port is the real port."""

import logging

import aiohttp
from aiohttp import web

from chaosext.lab import dataplane, httpserve

log = logging.getLogger("meshdrill.lab.gateway")


class IngressGateway:
    """One ingress gateway (Envoy) in front of one host."""

    def __init__(self, name: str, upstream: dataplane.Upstream) -> None:
        self.name = name
        self.upstream = upstream
        self.port = 0
        self._runner: web.BaseRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> int:
        self._session = dataplane.upstream_session()
        self._runner = await httpserve.listen(
            self._handle, client_max_size=16 * 1024 * 1024
        )
        self.port = self._runner.addresses[0][1]
        log.info("gateway %s on %s -> %s", self.name, self.url, self.upstream.host)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _handle(self, request: web.BaseRequest) -> web.Response:
        assert self._session is not None
        reply = await dataplane.forward(
            self.upstream,
            self._session,
            request.method,
            request.path_qs,
            request.headers,
            await request.read(),
        )
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
