"""Control piece: remember the signal that ended a run, wherever it landed.

Chaos Toolkit turns SIGTERM into an exception raised wherever the main thread
is; inside a steady-state probe that exception is journaled as the probe
failing, and the run ends `failed`. A run a person or a scheduler stopped was
interrupted, not failed: this piece wraps the SIGINT and SIGTERM handlers in
place when the run starts, notes which signal came in the run's context (then
lets the handler do what it did before), and puts the handlers back at the end.

The handler's exception is raised wherever the main thread is. When that is a
finalizer (a pooled connection closed by the garbage collector), Python cannot
raise it and prints "Exception ignored in ..." with a traceback that a person
reads as a crash. While the run is watched, such an exception is one this run
already noted (`runcontext.raise_if_stopped` raises it again where it can be
handled, with rollbacks), so the unraisable hook drops it quietly; anything
else still reaches the previous hook.
"""

import contextlib
import signal
import sys
from typing import Any

from chaosext.runcontext import RunContext

__all__ = ["release", "watch"]

WATCHED = (signal.SIGINT, signal.SIGTERM)


def watch(context: RunContext) -> None:
    """Note SIGINT/SIGTERM in `context.interrupted`; keep their behaviour."""
    if context.signal_handlers:
        return
    for sig in WATCHED:
        with contextlib.suppress(ValueError):  # not in the main thread
            previous = signal.getsignal(sig)
            signal.signal(sig, _noting(context, sig, previous))
            context.signal_handlers[sig] = previous
    if context.signal_handlers:
        sys.unraisablehook = _quiet_stops(context, sys.unraisablehook)


def release(context: RunContext) -> None:
    """Put back the handlers `watch` replaced."""
    for sig, previous in list(context.signal_handlers.items()):
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(sig, previous)
        context.signal_handlers.pop(sig, None)
    previous = getattr(sys.unraisablehook, "meshdrill_previous", None)
    if previous is not None:
        sys.unraisablehook = previous


def is_stop(exc: BaseException | None) -> bool:
    """Whether `exc` is one of the exceptions that end a run on a signal."""
    from chaoslib.exceptions import InterruptExecution

    return isinstance(exc, KeyboardInterrupt | SystemExit | InterruptExecution)


def _quiet_stops(context: RunContext, previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        stopped = context.interrupted is not None or context.safeguard
        if stopped and is_stop(unraisable.exc_value):
            return  # noted: raise_if_stopped raises it again at the next step
        previous(unraisable)

    hook.meshdrill_previous = previous  # type: ignore[attr-defined]
    return hook


def _noting(context: RunContext, sig: signal.Signals, previous: Any) -> Any:
    def handler(signum: int, frame: Any) -> None:
        if context.interrupted is None:
            context.interrupted = signal.Signals(signum).name
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL and sig == signal.SIGINT:
            raise KeyboardInterrupt
        elif previous == signal.SIG_DFL:
            raise SystemExit(128 + signum)

    return handler
