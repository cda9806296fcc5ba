"""A lab proxy passes requests through as Envoy does: it adds no headers of its
HTTP library's own and keeps no cookies, so one client's cookie never reaches a
pod on another client's request."""

import asyncio
from collections.abc import Mapping

from aiohttp import web

from chaosext.lab import dataplane, httpserve


async def _two_requests_through_the_proxy_session() -> list[Mapping[str, str]]:
    """Two requests to an upstream that sets a cookie on its first answer; what
    the upstream received each time."""
    seen: list[Mapping[str, str]] = []

    async def upstream(request: web.BaseRequest) -> web.Response:
        seen.append(dict(request.headers))
        answer = web.Response(text="ok")
        answer.set_cookie("session", "client-one")
        return answer

    runner = await httpserve.listen(upstream)
    port = runner.addresses[0][1]
    try:
        async with dataplane.upstream_session() as session:
            for client in ("one", "two"):
                async with session.get(
                    f"http://127.0.0.1:{port}/", headers={"x-client": client}
                ) as answer:
                    await answer.read()
    finally:
        await runner.cleanup()
    return seen


def test_the_proxy_session_adds_no_headers_and_keeps_no_cookies() -> None:
    first, second = asyncio.run(_two_requests_through_the_proxy_session())
    assert {k.lower() for k in first} == {"host", "x-client"}
    assert {k.lower() for k in second} == {"host", "x-client"}
    assert second["x-client"] == "two"
