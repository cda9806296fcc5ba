"""A probe `fig_lab.py` puts on the lab process's path (not part of the lab):
with MESHDRILL_LOOP_PROBE=<file>, every event-loop callback and every garbage
collection that holds the main thread's CPU for more than `FLOOR` seconds is
written to <file> as a JSON line (monotonic time it ended, thread CPU seconds,
what it was). CPU time, not wall time: how long the loop was held does not
depend on how busy the machine is."""

import atexit
import gc
import json
import os
import time

FLOOR = 0.02
_path = os.environ.get("MESHDRILL_LOOP_PROBE")

if _path:
    import asyncio.events

    _records: list[dict[str, object]] = []
    _run = asyncio.events.Handle._run

    def _timed(self: asyncio.events.Handle) -> None:
        began = time.thread_time()
        try:
            _run(self)
        finally:
            held = time.thread_time() - began
            if held > FLOOR:
                callback = getattr(self, "_callback", None)
                task = getattr(callback, "__self__", callback)  # a task's step
                coro = getattr(task, "get_coro", lambda: None)()
                what = repr(coro or task)[:160]
                _records.append({"at": time.monotonic(), "cpu": held, "what": what})

    asyncio.events.Handle._run = _timed  # type: ignore[method-assign]
    _gc_began = [0.0]

    def _gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            _gc_began[0] = time.thread_time()
            return
        held = time.thread_time() - _gc_began[0]
        if held > FLOOR:
            what = f"gc gen{info['generation']} collected {info['collected']}"
            _records.append({"at": time.monotonic(), "cpu": held, "what": what})

    gc.callbacks.append(_gc)

    @atexit.register
    def _write(path: str = _path) -> None:
        with open(path, "w", encoding="utf-8") as out:
            for record in _records:
                out.write(json.dumps(record) + "\n")
