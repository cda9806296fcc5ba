"""Run a game day on its cron schedule, in the foreground, until told to stop.

- Concurrency `forbid`: a run due while another is in progress is skipped (logged).
  `allow`: each due run starts in its own thread, overlapping runs included.
- Missed runs are never caught up: when the scheduler wakes late (the machine
  slept, the clock jumped), every due time it overslept is logged as missed, and
  the latest one still runs only if it is at most `starting_deadline` seconds late,
  as a Kubernetes CronJob's startingDeadlineSeconds does.
- `stop()` (the CLI calls it on SIGTERM/SIGINT) ends the loop; `serve` then waits
  for runs in progress, whose drills were told to stop and are restoring.

The clock and the function that runs a game day are injected, so the logic is
tested with a fake clock and no real minutes.
"""

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from chaosext.gameday.cron import CronSchedule
from chaosext.gameday.model import DEFAULT_STARTING_DEADLINE, Concurrency

__all__ = ["Clock", "ScheduleEvent", "Scheduler", "SystemClock"]

log = logging.getLogger("meshdrill.gameday")

_MAX_COUNTED = 100_000  # due times counted when reporting a long sleep
_MAX_EVENTS = 10_000  # events kept for inspection


class Clock(Protocol):
    """Wall-clock time, and waiting for a moment unless stopped."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        """Return True once `when` has come, False as soon as `stop` is set."""
        ...


class SystemClock:
    """The machine's clock; waits in short steps so clock jumps are noticed."""

    def now(self) -> datetime:
        """datetime.now(UTC)."""
        return datetime.now(UTC)

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        """Sleep until `when` (re-reading the clock every second at most)."""
        while True:
            remaining = (when - self.now()).total_seconds()
            if remaining <= 0:
                return not stop.is_set()
            if stop.wait(min(remaining, 1.0)):
                return False


EventKind = Literal["started", "finished", "skipped", "missed"]


@dataclass(frozen=True)
class ScheduleEvent:
    """Something the scheduler did about a due time (`count` due times if missed)."""

    kind: EventKind
    due: datetime
    at: datetime
    count: int = 1


class Scheduler:
    """Fires `run(due)` at each due time of `schedule` per the concurrency policy."""

    def __init__(
        self,
        schedule: CronSchedule,
        run: Callable[[datetime], object],
        *,
        concurrency: Concurrency = "forbid",
        starting_deadline: float = DEFAULT_STARTING_DEADLINE,
        clock: Clock | None = None,
    ) -> None:
        self.schedule = schedule
        self.concurrency = concurrency
        self.starting_deadline = starting_deadline
        self.clock: Clock = clock or SystemClock()
        self._run = run
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active = 0
        self._threads: list[threading.Thread] = []
        self._events: collections.deque[ScheduleEvent] = collections.deque(
            maxlen=_MAX_EVENTS
        )

    @property
    def events(self) -> list[ScheduleEvent]:
        """What happened so far, in order (a copy)."""
        with self._lock:
            return list(self._events)

    def stop(self) -> None:
        """End the loop (safe from a signal handler); runs in progress go on."""
        self._stop.set()

    def _local(self, when: datetime) -> str:
        return when.astimezone(self.schedule.timezone).isoformat()

    def _record(self, kind: EventKind, due: datetime, count: int = 1) -> None:
        self._events.append(ScheduleEvent(kind, due, self.clock.now(), count))

    def serve(
        self, until: datetime | None = None, join_timeout: float | None = None
    ) -> bool:
        """Run until stop() (or past `until`), then wait for runs in progress.

        Return False if some run was still going after `join_timeout` seconds.
        """
        due = self.schedule.next_after(self.clock.now())
        log.info("first run due at %s", self._local(due))
        while not self._stop.is_set():
            if until is not None and due > until:
                break
            if not self.clock.wait_until(due, self._stop):
                break
            now = self.clock.now()
            dues = list(
                itertools.islice(self.schedule.due_between(due, now), _MAX_COUNTED)
            ) or [due]
            latest: datetime | None = dues[-1]
            missed = dues[:-1]
            if latest is not None and (now - latest).total_seconds() > max(
                self.starting_deadline, 0
            ):
                missed, latest = dues, None
            if missed:
                self._missed(missed, now)
            if latest is not None:
                self._fire(latest)
            due = self.schedule.next_after(max(now, latest or now))
            log.info("next run due at %s", self._local(due))
        log.info("scheduler stopping; waiting for runs in progress")
        return self._join(join_timeout)

    def _missed(self, missed: list[datetime], now: datetime) -> None:
        with self._lock:
            self._record("missed", missed[0], len(missed))
        log.warning(
            "missed %d run(s) due from %s to %s (woke at %s); not catching up",
            len(missed),
            self._local(missed[0]),
            self._local(missed[-1]),
            self._local(now),
        )

    def _fire(self, due: datetime) -> None:
        with self._lock:
            if self.concurrency == "forbid" and self._active:
                self._record("skipped", due)
                log.warning(
                    "run due at %s skipped: the previous run is still in progress "
                    "(concurrency: forbid)",
                    self._local(due),
                )
                return
            self._active += 1
            self._record("started", due)
            thread = threading.Thread(
                target=self._run_one, args=(due,), name=f"gameday-{due:%H%M%S}"
            )
            thread.daemon = True
            self._threads = [old for old in self._threads if old.is_alive()]
            self._threads.append(thread)
        log.info("run due at %s starting", self._local(due))
        thread.start()

    def _run_one(self, due: datetime) -> None:
        try:
            self._run(due)
        except Exception:
            log.exception("the run due at %s failed", self._local(due))
        finally:
            with self._lock:
                self._active -= 1
                self._record("finished", due)

    def _join(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            remaining = None if deadline is None else deadline - time.monotonic()
            thread.join(None if remaining is None else max(remaining, 0))
        stuck = [thread.name for thread in threads if thread.is_alive()]
        if stuck:
            log.error("runs still going after %.0f s: %s", timeout or 0, stuck)
        return not stuck
