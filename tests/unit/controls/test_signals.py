"""The signals piece: a stop that lands in a finalizer is not printed as a crash."""

import gc
import signal
import sys
from typing import Any

import pytest

from chaosext.controls import signals
from chaosext.runcontext import RunContext


class _RaisesOnDel:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __del__(self) -> None:
        raise self.exc


def _finalize(exc: BaseException) -> None:
    obj = _RaisesOnDel(exc)
    del obj
    gc.collect()


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    recorded: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: recorded.append(u.exc_type))
    return recorded


def test_a_noted_stop_raised_in_a_finalizer_is_dropped(seen: list[Any]) -> None:
    context = RunContext(run_id="r")
    signals.watch(context)
    try:
        context.interrupted = "SIGINT"
        _finalize(KeyboardInterrupt())
        _finalize(SystemExit(20))
        assert seen == []
        _finalize(ValueError("a real bug"))  # anything else still shows
        assert seen == [ValueError]
    finally:
        signals.release(context)


def test_before_any_stop_a_finalizer_keyboardinterrupt_still_shows(
    seen: list[Any],
) -> None:
    context = RunContext(run_id="r")
    signals.watch(context)
    try:
        _finalize(KeyboardInterrupt())
        assert seen == [KeyboardInterrupt]
    finally:
        signals.release(context)


def test_release_puts_back_the_hook_and_the_handlers(seen: list[Any]) -> None:
    before = (sys.unraisablehook, signal.getsignal(signal.SIGINT))
    context = RunContext(run_id="r")
    signals.watch(context)
    assert sys.unraisablehook is not before[0]
    signals.release(context)
    assert (sys.unraisablehook, signal.getsignal(signal.SIGINT)) == before
