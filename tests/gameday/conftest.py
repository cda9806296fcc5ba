"""Fakes for game-day tests: a scripted drill runner, a console, a webhook sink."""

import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from chaosext.gameday.cron import CronSchedule
from chaosext.gameday.executor import Interrupt
from chaosext.gameday.model import Drill, GameDay, Webhook
from tests import labfixtures

Outcome = tuple[int, dict[str, Any] | None]


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    labfixtures.wait_for(condition, timeout, "a game-day condition", interval=0.01)


def passed_journal(*transitions: float | None) -> dict[str, Any]:
    """A journal as meshdrill's verdict control leaves it after a pass."""
    return {
        "status": "completed",
        "meshdrill": {
            "verdict": "passed",
            "reasons": [],
            "phases": [
                {"name": f"phase-{i}", "transition_seconds": seconds}
                for i, seconds in enumerate(transitions)
            ],
        },
    }


def failed_journal(reason: str) -> dict[str, Any]:
    """A journal whose verdict is failed, for `reason`."""
    return {
        "status": "completed",
        "meshdrill": {"verdict": "failed", "reasons": [reason], "phases": []},
    }


class FakeRunner:
    """Plays a scripted (exit code, journal) per drill name instead of `chaos run`."""

    def __init__(
        self,
        outcomes: dict[str, Outcome],
        during: Callable[[Drill, Interrupt], None] | None = None,
    ) -> None:
        self.outcomes = outcomes
        self.during = during
        self.calls: list[tuple[Drill, dict[str, str]]] = []

    def __call__(
        self,
        drill: Drill,
        journal_path: Path,
        log_path: Path,
        env: dict[str, str],
        interrupt: Interrupt,
    ) -> int:
        self.calls.append((drill, env))
        log_path.write_text(f"fake run of {drill.name}\n")
        if self.during is not None:
            self.during(drill, interrupt)
        code, journal = self.outcomes[drill.name]
        if journal is not None:
            journal_path.write_text(json.dumps(journal))
        return code

    @property
    def ran(self) -> list[str]:
        """Names of the drills run, in order."""
        return [drill.name for drill, _ in self.calls]


def game_day(
    tmp_path: Path,
    names: list[str],
    on_failure: str = "stop",
    notify: tuple[Webhook, ...] = (),
) -> GameDay:
    """A GameDay of drills named `names` (their files need not exist)."""
    return GameDay(
        path=tmp_path / "gd.yaml",
        name="test-day",
        schedule=CronSchedule.parse("@daily"),
        drills=tuple(Drill(name, tmp_path / f"{name}.json") for name in names),
        on_failure=on_failure,  # type: ignore[arg-type]
        notify=notify,
    )


@pytest.fixture
def console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system=None)


def output(console: Console) -> str:
    """What was printed on a test console."""
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


class Sink:
    """A webhook receiver on 127.0.0.1: keeps every JSON body posted to it."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                sink.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(sink.status)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/s3cr3t"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )


@pytest.fixture
def sink() -> Iterator[Sink]:
    receiver = Sink()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
