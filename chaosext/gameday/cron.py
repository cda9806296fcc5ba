"""Cron schedules of game days: 5 fields, or 6 with seconds first, in a time zone.

A 5-field expression is standard cron (minute hour day-of-month month day-of-week,
plus croniter's `@weekly`-style aliases). A 6-field expression puts a seconds field
FIRST (`*/2 * * * * *` = every 2 seconds), as Quartz and Spring do; it exists for
short test schedules and cannot become a Kubernetes CronJob.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

__all__ = [
    "CronError",
    "CronSchedule",
    "check_kubernetes_schedule",
    "load_timezone",
]

_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_NAMES = re.compile(
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat",
    re.IGNORECASE,
)
_KUBERNETES_FIELD = re.compile(r"^[0-9*/,?-]+$")


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; the message says why."""


def load_timezone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. `Europe/Paris`, `UTC`), or CronError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CronError(f"unknown time zone {name!r} (use an IANA name)") from exc


def field_count(expression: str) -> int:
    """How many fields `expression` has (aliases such as `@weekly` count as 5)."""
    text = expression.strip()
    return 5 if text.lower() in _ALIASES else len(text.split())


@dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression evaluated in one time zone."""

    expression: str
    timezone: ZoneInfo

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> "CronSchedule":
        """Validate `expression` (5 fields, or 6 with seconds first) in `timezone`."""
        zone = load_timezone(timezone)
        count = field_count(expression)
        if count not in (5, 6):
            raise CronError(
                f"cron expression {expression!r} has {count} fields; use 5 "
                "(minute hour day month weekday) or 6 with seconds first"
            )
        schedule = cls(expression.strip(), zone)
        try:
            schedule._iterator(datetime.now(UTC))
        except (CroniterError, ValueError, KeyError) as exc:
            raise CronError(f"bad cron expression {expression!r}: {exc}") from exc
        return schedule

    @property
    def has_seconds(self) -> bool:
        """True for a 6-field expression (seconds first)."""
        return field_count(self.expression) == 6

    def _iterator(self, start: datetime) -> croniter:
        return croniter(
            self.expression,
            start.astimezone(self.timezone),
            second_at_beginning=self.has_seconds,
        )

    def next_after(self, when: datetime) -> datetime:
        """The first due time strictly after `when` (aware, in UTC)."""
        due: datetime = self._iterator(when).get_next(datetime)
        return due.astimezone(UTC)

    def due_between(self, first: datetime, last: datetime) -> Iterator[datetime]:
        """Due times from `first` (itself included if due) up to `last`, in UTC."""
        due = self.next_after(first.replace(microsecond=0) - timedelta(seconds=1))
        while due <= last:
            if due >= first:
                yield due
            due = self.next_after(due)


def check_kubernetes_schedule(expression: str) -> None:
    """Raise CronError unless a Kubernetes CronJob accepts `expression`.

    Kubernetes takes 5 fields of numbers, `*`, `,`, `-`, `/`, `?` and month/day
    names, or an `@` alias; no seconds field and no croniter extensions (L, W, #, H).
    """
    text = expression.strip()
    if text.lower() in _ALIASES:
        return
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"a Kubernetes CronJob needs a 5-field schedule, not {expression!r} "
            f"({len(fields)} fields; the seconds field is for local test schedules)"
        )
    for field in fields:
        if not _KUBERNETES_FIELD.match(_NAMES.sub("0", field)):
            raise CronError(
                f"schedule field {field!r} of {expression!r} uses a croniter "
                "extension that a Kubernetes CronJob does not accept"
            )
