"""Sharing the event loop: a controller pass that writes many objects (a
2,000-pod scale-down, the kubelet stopping every pod of a cluster) hands the loop
over every few milliseconds, so the API, watches and the data plane, which share
the loop with it, answer in between.

A pass that awaits `Pacer.turn()` must expect the store to have changed across
it: re-read what it is about to write (`Store.peek`) rather than trusting the
list it started from.

The garbage collector stalls the loop too: a 2,000-pod lab holds millions of
objects, and with the default thresholds a full collection ran every second or
so during a big scale, ~0.3 s each (mostly finding nothing: the lab's objects are
JSON, freed by reference counting). The lab process collects young objects in
smaller steps (`fewer_collections`) and keeps what it started with, and what
survived each full collection, out of the next (`keep_started`,
`keep_collected`).
"""

import asyncio
import gc
import time
from collections.abc import Callable
from typing import ClassVar

clock: Callable[[], float] = time.monotonic
"""The pacers' clock (a test may stand another in)."""

SLICE = 0.01
"""Seconds a pass may hold the loop before it hands it over."""


class Pacer:
    """Hands the event loop over once `SLICE` seconds of paced work have passed
    since the last turn. Every pacer of the process shares one slice: the
    kubelet, the controllers, the endpoint pushes and the list serializers, busy
    together in a 2,000-pod scale, do one slice of work between them per turn of
    the loop, not one each, and then the API answers. (With a slice each, a turn
    ran up to one slice per busy component, and a request that needs several
    turns, as a new TLS connection does, waited that many times over: during a
    2,000-pod scale a GET on a new connection took 250-330 ms, with one shared
    slice 150-250 ms; docs/performance.md.) Many tasks may share one pacer (the
    kubelet's 2,000 pods, stopping together): after a turn the first to come back
    opens the next slice and the others go on within it or wait for theirs."""

    _since: ClassVar[list[float]] = [time.monotonic()]
    """When the current slice began: one for every pacer of the process."""

    def __init__(self, slice_seconds: float = SLICE) -> None:
        self.slice = slice_seconds

    async def turn(self) -> None:
        """Yield to the loop if paced work has held it for a slice."""
        since = self._since
        while clock() - since[0] >= self.slice:
            stale = since[0]
            await asyncio.sleep(0)
            if since[0] == stale:  # first back: the next slice is ours
                since[0] = clock()


GC_THRESHOLDS = (5_000, 10, 100)
"""The lab process's collector thresholds (Python's default: 700, 10, 10). A
young collection scans at most what the last 5,000 allocations left and a middle
one what 50,000 left (at 20,000 and 50, a middle collection scanned up to a
million objects: 1.6 s on a loaded machine); full collections are rarer, and
each scans only what came since the last (`keep_collected`)."""

FREEZE_CHECK = 1.0
"""Seconds between two looks at whether a full collection ran."""


def fewer_collections() -> None:
    """Set the lab process's collector thresholds to `GC_THRESHOLDS`."""
    gc.set_threshold(*GC_THRESHOLDS)


def keep_started() -> None:
    """Move every object alive now (the started lab) out of the collector's sight:
    later full collections scan only what came after."""
    gc.freeze()


async def keep_collected() -> None:
    """After each full collection, move what survived it out of the collector's
    sight (`gc.freeze`), so the next full one scans only what came since, not
    every pod the lab has made. What the full collection kept was alive then; the
    lab's objects are JSON, freed by reference counting whether frozen or not:
    only a cycle made before the freeze and broken after it is never collected."""
    seen = gc.get_stats()[2]["collections"]
    while True:
        await asyncio.sleep(FREEZE_CHECK)
        now = gc.get_stats()[2]["collections"]
        if now != seen:
            seen = now
            gc.freeze()
