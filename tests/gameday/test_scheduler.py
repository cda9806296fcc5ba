"""The scheduler's logic on a fake clock: due times, forbid/allow, no catch-up."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chaosext.gameday.cron import CronSchedule
from chaosext.gameday.model import Concurrency
from chaosext.gameday.scheduler import ScheduleEvent, Scheduler
from tests.gameday.conftest import wait_for

START = datetime(2025, 1, 6, 12, 0, 30, tzinfo=UTC)
EVERY_MINUTE = CronSchedule.parse("* * * * *")


class FakeClock:
    """Time that jumps to whatever is waited for, plus scripted oversleeps.

    Waiting past `frozen_after` blocks until the scheduler is stopped; `settle`
    runs before each wait (e.g. to let runs in progress end first).
    """

    def __init__(
        self,
        start: datetime,
        oversleep: dict[datetime, timedelta] | None = None,
        frozen_after: datetime | None = None,
        settle: Callable[[], None] | None = None,
    ) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.oversleep = dict(oversleep or {})
        self.frozen_after = frozen_after
        self.settle = settle

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def wait_until(self, when: datetime, stop: threading.Event) -> bool:
        if self.settle is not None:
            self.settle()
        if self.frozen_after is not None and when > self.frozen_after:
            stop.wait()
        if stop.is_set():
            return False
        with self._lock:
            self._now = max(self._now, when + self.oversleep.pop(when, timedelta()))
        return True


class Gate:
    """A game-day stand-in that blocks until opened, counting overlaps."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.dues: list[datetime] = []

    def __call__(self, due: datetime) -> None:
        with self._lock:
            self.dues.append(due)
            self.running += 1
            self.most = max(self.most, self.running)
        self.opened.wait(timeout=30)
        with self._lock:
            self.running -= 1


def _kinds(events: list[ScheduleEvent], kind: str) -> list[datetime]:
    return [event.due for event in events if event.kind == kind]


def _minutes(*minutes: int) -> list[datetime]:
    return [START.replace(minute=m, second=0) for m in minutes]


def _serve_blocked(concurrency: Concurrency) -> tuple[Scheduler, Gate]:
    """Serve five due minutes while the first run(s) stay blocked, then open."""
    gate = Gate()
    scheduler = Scheduler(
        EVERY_MINUTE, gate, concurrency=concurrency, clock=FakeClock(START)
    )
    done = threading.Event()

    def serve() -> None:
        scheduler.serve(until=START + timedelta(minutes=5))
        done.set()

    thread = threading.Thread(target=serve)
    thread.start()
    expected = 1 if concurrency == "forbid" else 5
    wait_for(
        lambda: (
            len(_kinds(scheduler.events, "started"))
            + len(_kinds(scheduler.events, "skipped"))
            == 5
        )
    )
    wait_for(lambda: gate.running == expected)
    gate.opened.set()
    thread.join(timeout=10)
    assert done.is_set()
    return scheduler, gate


def test_runs_are_called_with_their_due_times_in_the_time_zone() -> None:
    """Mondays 06:00 Paris over a DST change: run(due) gets the right instants."""
    dues: list[datetime] = []
    schedule = CronSchedule.parse("0 6 * * 1", "Europe/Paris")
    start = datetime(2025, 3, 20, tzinfo=UTC)
    scheduler = Scheduler(schedule, dues.append, clock=FakeClock(start))
    assert scheduler.serve(until=start + timedelta(days=14), join_timeout=10)
    assert dues == [
        datetime(2025, 3, 24, 5, 0, tzinfo=UTC),
        datetime(2025, 3, 31, 4, 0, tzinfo=UTC),
    ]


def test_forbid_skips_runs_due_while_one_is_in_progress() -> None:
    """forbid: the first run blocks, the next four due times are skipped."""
    scheduler, gate = _serve_blocked("forbid")
    assert _kinds(scheduler.events, "started") == _minutes(1)
    assert _kinds(scheduler.events, "skipped") == _minutes(2, 3, 4, 5)
    assert gate.most == 1


def test_allow_runs_overlapping_runs_in_parallel() -> None:
    """allow: every due time starts a run, five at once."""
    scheduler, gate = _serve_blocked("allow")
    assert _kinds(scheduler.events, "started") == _minutes(1, 2, 3, 4, 5)
    assert gate.most == 5


def test_overslept_runs_are_missed_not_caught_up() -> None:
    """Waking 3.5 min late: 12:01-12:03 are missed; 12:04 (30 s late) runs once."""
    dues: list[datetime] = []
    clock = FakeClock(START, {_minutes(1)[0]: timedelta(minutes=3, seconds=30)})
    scheduler = Scheduler(EVERY_MINUTE, dues.append, clock=clock, starting_deadline=60)
    scheduler.serve(until=START + timedelta(minutes=5), join_timeout=10)
    missed = [e for e in scheduler.events if e.kind == "missed"]
    assert [(e.due, e.count) for e in missed] == [(_minutes(1)[0], 3)]
    assert dues == _minutes(4, 5)


def test_run_later_than_the_starting_deadline_is_missed_too() -> None:
    """Waking 30 s after the latest due time with a 20 s deadline runs neither."""
    dues: list[datetime] = []
    clock = FakeClock(START, {_minutes(1)[0]: timedelta(minutes=1, seconds=30)})
    scheduler = Scheduler(EVERY_MINUTE, dues.append, clock=clock, starting_deadline=20)
    scheduler.serve(until=START + timedelta(minutes=3), join_timeout=10)
    missed = [e for e in scheduler.events if e.kind == "missed"]
    assert [(e.due, e.count) for e in missed] == [(_minutes(1)[0], 2)]
    assert dues == _minutes(3)


def test_stop_ends_the_loop_and_waits_for_the_run_in_progress() -> None:
    """stop() during a run: no new run starts, serve returns once it ended."""
    gate = Gate()
    clock = FakeClock(START, frozen_after=START + timedelta(minutes=1))
    scheduler = Scheduler(EVERY_MINUTE, gate, clock=clock)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(scheduler.serve()))
    thread.start()
    wait_for(lambda: gate.running == 1)
    scheduler.stop()
    gate.opened.set()
    thread.join(timeout=10)
    assert result == [True]
    assert _kinds(scheduler.events, "finished") == gate.dues


def test_a_crashing_run_does_not_end_the_scheduler() -> None:
    """An exception in one run is logged; later runs still happen (forbid too)."""
    dues: list[datetime] = []

    def flaky(due: datetime) -> None:
        dues.append(due)
        if len(dues) == 1:
            raise RuntimeError("boom")

    def idle() -> bool:
        events = scheduler.events
        return len(_kinds(events, "started")) == len(_kinds(events, "finished"))

    def runs_ended() -> None:
        wait_for(idle)

    clock = FakeClock(START, settle=runs_ended)
    scheduler = Scheduler(EVERY_MINUTE, flaky, clock=clock, concurrency="forbid")
    scheduler.serve(until=START + timedelta(minutes=3), join_timeout=10)
    assert dues == _minutes(1, 2, 3)
