"""One HTTP listener on 127.0.0.1 for one handler: what a pod's container and an
ingress gateway's Envoy serve on.

It is aiohttp's low-level server (`web.Server`): every request goes to the one
handler, with no application router, middlewares or per-request app state, which
the data plane does not use and which cost about a tenth of its CPU per request
(`benchmarks/fig_sampling.py` measures the gateway path).
"""

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


async def listen(
    handler: Handler,
    *,
    port: int = 0,
    reuse_address: bool | None = None,
    client_max_size: int = 1024**2,
    shutdown_timeout: float = 0.5,
) -> web.ServerRunner:
    """Serve `handler` on 127.0.0.1:`port` (0: any free port); the runner's
    `addresses` say where, its `cleanup` stops listening and closes connections.
    `client_max_size` bounds a request body, as `web.Application`'s does."""

    loop = asyncio.get_running_loop()

    def request(
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: "asyncio.Task[None]",
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message,
            payload,
            protocol,
            writer,
            task,
            loop,
            client_max_size=client_max_size,
        )

    server = web.Server(handler, request_factory=request, access_log=None)
    runner = web.ServerRunner(
        server, handle_signals=False, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=reuse_address)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    return runner
