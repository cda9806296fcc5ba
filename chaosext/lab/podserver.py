"""A pod's container: a real HTTP server on 127.0.0.1 answering like GKE's hello-app.

`/hostname` answers the pod name; every other path the hello-app body. The pod's
`lab.meshdrill.io/fault` annotation is read on every request: `{"status": 503}`
answers that status, `{"delay": 2.0}` waits first; `{"refuse": true}` is applied
by the kubelet, which stops the listener (connections refused) and restarts it on
the same port when the fault is gone. The kubelet also hands a pod the fault its
sidecar's EnvoyFilters configure (`sidecarfaults`): the same answers, each for its
percentage of the requests.
"""

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from chaosext.lab import httpserve

log = logging.getLogger("meshdrill.lab.pods")

HELLO = "Hello, world!\nVersion: 1.0.0\nHostname: {name}\n"
LOG_LINES = 1000


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    delay: float = 0.0
    refuse: bool = False
    status_percent: float = 100.0  # the share of requests answered `status`
    delay_percent: float = 100.0  # the share of requests delayed


NO_FAULT = Fault()


def parse_fault(text: str | None) -> Fault:
    """The fault annotation's JSON as a Fault (no fault when absent or malformed)."""
    if not text:
        return NO_FAULT
    try:
        data = json.loads(text)
        status = data.get("status")
        return Fault(
            status=int(status) if status is not None else None,
            delay=max(0.0, float(data.get("delay", 0.0))),
            refuse=bool(data.get("refuse", False)),
        )
    except (ValueError, TypeError, AttributeError):
        log.warning("ignoring malformed fault annotation %r", text)
        return NO_FAULT


class PodServer:
    """The HTTP server of one pod."""

    on_delay: Callable[[float, float], None] | None = None
    """Told (start, end) of each request it delayed by its fault (`groundtruth`)."""

    def __init__(self, name: str, fault: Callable[[], Fault]) -> None:
        self.name = name
        self.port = 0
        self.log: deque[str] = deque(maxlen=LOG_LINES)  # what `kubectl logs` shows
        self._fault = fault
        self._runner: web.BaseRunner | None = None
        self._lock = asyncio.Lock()
        self.wanted = False  # the last state asked of `ensure`

    @property
    def listening(self) -> bool:
        return self._runner is not None

    async def ensure(self, listening: bool) -> None:
        """Start or stop listening; calls are serialised, the last one wins."""
        self.wanted = listening
        async with self._lock:
            if self.wanted and self._runner is None:
                await self.start()
            elif not self.wanted and self._runner is not None:
                await self.stop()

    async def start(self) -> int:
        """Listen (on the port of last time, if any); return the port."""
        if self._runner is not None:
            return self.port
        runner = await httpserve.listen(
            self._handle, port=self.port, reuse_address=True, shutdown_timeout=0.1
        )
        self.port = runner.addresses[0][1]
        self._runner = runner
        self._log(f"Server listening on port {self.port}")
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def _log(self, line: str) -> None:
        self.log.append(f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())} {line}")

    async def _handle(self, request: web.BaseRequest) -> web.Response:
        self._log(f"Serving request: {request.path}")
        fault = self._fault()
        if fault.delay and _hit(fault.delay_percent):
            began = time.time()
            await asyncio.sleep(fault.delay)
            if self.on_delay is not None:
                self.on_delay(began, time.time())
        if request.path.rstrip("/") == "/hostname":
            body = self.name
        else:
            body = HELLO.format(name=self.name)
        if fault.status is not None and _hit(fault.status_percent):
            return web.Response(
                status=fault.status, text=f"fault injected: {fault.status}\n"
            )
        return web.Response(text=body)


def _hit(percent: float) -> bool:
    return percent >= 100.0 or random.random() * 100.0 < percent
