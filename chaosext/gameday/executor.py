"""Run one drill as its own `chaos run` process, and stop it safely when asked.

Each drill runs in a new session (its own process group), so a Ctrl-C at the
terminal reaches only meshdrill, which forwards it once: SIGINT to the drill's
process group (what a terminal would have done), SIGTERM to the drill's process
(Chaos Toolkit turns it into an interruption). The drill then restores what it
changed and exits; meshdrill waits for that, up to a grace period, and only then
kills it (and says that `meshdrill recover` is needed).
"""

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from chaosext.gameday.model import Drill

__all__ = [
    "DEFAULT_GRACE",
    "ExperimentRunner",
    "Interrupt",
    "chaos_executable",
    "run_with_chaos",
]

log = logging.getLogger("meshdrill.gameday")

# How long a drill may take to restore after being signalled before it is killed.
DEFAULT_GRACE = 300.0


class Interrupt:
    """A stop request shared by the runner(s) and the signal handlers; thread-safe.

    The first `request(signum)` records the signal and forwards it once to every
    drill running now; drills started later receive it as soon as they attach.
    """

    def __init__(self, grace: float = DEFAULT_GRACE) -> None:
        self.grace = grace
        self._lock = threading.RLock()  # re-entrant: handlers run on the main thread
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._signum: int | None = None
        self._at = 0.0

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self._signum is not None

    @property
    def signal_name(self) -> str | None:
        """`SIGTERM`, `SIGINT`, ... or None."""
        return None if self._signum is None else signal.Signals(self._signum).name

    @property
    def signum(self) -> int | None:
        """The signal number of the stop request, or None."""
        return self._signum

    def expired(self) -> bool:
        """Whether the grace period since the request is over."""
        return self.requested and time.monotonic() - self._at > self.grace

    def request(self, signum: int) -> None:
        """Record a stop; forward `signum` to the running drills (first time only)."""
        with self._lock:
            if self._signum is not None:
                log.warning(
                    "%s received again: still waiting for running drills to restore",
                    signal.Signals(signum).name,
                )
                return
            self._signum, self._at = signum, time.monotonic()
            procs = list(self._procs)
        for proc in procs:
            _forward(proc, signum)

    def attach(self, proc: "subprocess.Popen[bytes]") -> None:
        """Track a running drill; forward a stop already requested."""
        with self._lock:
            self._procs.add(proc)
            pending = self._signum
        if pending is not None:
            _forward(proc, pending)

    def detach(self, proc: "subprocess.Popen[bytes]") -> None:
        """Stop tracking a drill that ended."""
        with self._lock:
            self._procs.discard(proc)


def _forward(proc: "subprocess.Popen[bytes]", signum: int) -> None:
    name = signal.Signals(signum).name
    try:
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        log.warning(
            "forwarded %s to drill process %d; waiting for it to restore",
            name,
            proc.pid,
        )
    except ProcessLookupError:
        pass


# (drill, journal path, log path, environment, interrupt) -> exit code
ExperimentRunner = Callable[[Drill, Path, Path, dict[str, str], Interrupt], int]


def chaos_executable() -> str:
    """The `chaos` command installed next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "chaos"
    if beside.is_file():
        return str(beside)
    found = shutil.which("chaos")
    if found is None:
        raise FileNotFoundError(
            f"cannot find the `chaos` command next to {sys.executable} or on PATH; "
            "install chaostoolkit in this environment"
        )
    return found


def run_with_chaos(
    drill: Drill,
    journal_path: Path,
    log_path: Path,
    env: dict[str, str],
    interrupt: Interrupt,
) -> int:
    """`chaos run` the drill, output to `log_path`; return its exit code."""
    command = [
        chaos_executable(),
        "--no-version-check",
        "--log-file",
        str(log_path.with_suffix(".chaos.log")),
        "run",
        "--journal-path",
        str(journal_path),
        *drill.chaos_arguments(),
        str(drill.experiment),
    ]
    log.debug("running %s", " ".join(command))
    with log_path.open("wb") as output:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    interrupt.attach(proc)
    try:
        return _wait(proc, drill.name, interrupt.expired, interrupt)
    except BaseException:
        if proc.poll() is None:  # the runner itself is going down: stop safely
            _forward(proc, signal.SIGTERM)
            deadline = time.monotonic() + interrupt.grace
            _wait(proc, drill.name, lambda: time.monotonic() > deadline, interrupt)
        raise
    finally:
        interrupt.detach(proc)


def _wait(
    proc: "subprocess.Popen[bytes]",
    name: str,
    expired: Callable[[], bool],
    interrupt: Interrupt,
) -> int:
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if expired():
                log.error(
                    "drill %r did not end within %.0f s of being stopped; killing "
                    "it. Run `meshdrill recover` to restore what it changed",
                    name,
                    interrupt.grace,
                )
                os.killpg(proc.pid, signal.SIGKILL)
                return proc.wait()
