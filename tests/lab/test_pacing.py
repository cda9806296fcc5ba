"""Paced work shares one slice per turn of the loop, whichever pacer it uses:
two busy components do one slice of work between them per turn, not one each,
so whatever else is ready (an API request) runs after at most one slice."""

import asyncio

import pytest

from chaosext.lab import pacing

UNIT = 0.004  # seconds of the fake clock one unit of work takes


def test_two_pacers_share_one_slice_per_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(pacing, "clock", lambda: now[0])
    monkeypatch.setattr(pacing.Pacer, "_since", [now[0]], raising=False)
    per_turn: list[list[str]] = []

    async def work(name: str, pacer: pacing.Pacer) -> None:
        for _ in range(12):
            await pacer.turn()
            now[0] += UNIT  # one unit of work: the clock moves, nothing yields
            per_turn[-1].append(name)

    async def drill() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def next_turn() -> None:  # stands for the API: ready on every turn
            per_turn.append([])
            if not done.is_set():
                loop.call_soon(next_turn)

        next_turn()
        await asyncio.gather(
            work("kubelet", pacing.Pacer()), work("controller", pacing.Pacer())
        )
        done.set()

    asyncio.run(drill())
    busy = [turn for turn in per_turn if turn]
    assert sum(len(turn) for turn in busy) == 24
    # a slice is 10 ms: a turn runs until the units done reach it, whichever
    # component does them (3 units of 4 ms), never a slice for each (6 units)
    assert max(len(turn) for turn in busy) <= 3
    assert {name for turn in busy for name in turn} == {"kubelet", "controller"}
