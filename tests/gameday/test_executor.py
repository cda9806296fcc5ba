"""Stopping a real `chaos run` drill: forwarding once, killing after the grace."""

import logging
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from chaosext.gameday.executor import Interrupt, run_with_chaos
from chaosext.gameday.model import Drill
from tests.gameday import trivial
from tests.gameday.conftest import wait_for


def test_a_stop_requested_before_the_drill_starts_reaches_it() -> None:
    """attach() forwards a stop that was requested earlier."""
    interrupt = Interrupt()
    interrupt.request(signal.SIGTERM)
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    interrupt.attach(proc)
    assert proc.wait(timeout=10) == -signal.SIGTERM


def test_drill_ignoring_the_stop_is_killed_after_the_grace(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A drill that ignores SIGTERM is SIGKILLed once the grace is over."""
    env = trivial.helper_env(tmp_path)
    (tmp_path / "m").mkdir()
    experiment = trivial.write_json(
        tmp_path / "stubborn.json",
        trivial.stubborn(tmp_path / "m", tmp_path / "started"),
    )
    interrupt = Interrupt(grace=1.0)
    codes: list[int] = []
    drill = Drill("stubborn", experiment)
    args = (drill, tmp_path / "j.json", tmp_path / "out.log", env, interrupt)
    worker = threading.Thread(target=lambda: codes.append(run_with_chaos(*args)))
    with caplog.at_level(logging.ERROR, logger="meshdrill.gameday"):
        worker.start()
        wait_for(lambda: (tmp_path / "started").exists() or not worker.is_alive())
        interrupt.request(signal.SIGTERM)
        worker.join(timeout=60)
    assert codes == [-signal.SIGKILL]
    assert "meshdrill recover" in caplog.text
