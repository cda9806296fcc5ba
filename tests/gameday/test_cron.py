"""Cron schedules: due times in a time zone, seconds first, Kubernetes syntax."""

from datetime import UTC, datetime

import pytest

from chaosext.gameday.cron import CronError, CronSchedule, check_kubernetes_schedule


def test_due_times_follow_the_time_zone_across_dst() -> None:
    """Mondays 06:00 Paris is 05:00 UTC in winter and 04:00 UTC in summer."""
    schedule = CronSchedule.parse("0 6 * * 1", "Europe/Paris")
    winter = schedule.next_after(datetime(2025, 3, 20, tzinfo=UTC))
    summer = schedule.next_after(winter)
    assert winter == datetime(2025, 3, 24, 5, 0, tzinfo=UTC)
    assert summer == datetime(2025, 3, 31, 4, 0, tzinfo=UTC)


def test_next_after_is_strictly_after() -> None:
    """A due time is not due again at its own instant."""
    schedule = CronSchedule.parse("*/2 * * * * *")
    due = datetime(2025, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert schedule.next_after(due) == datetime(2025, 1, 1, 0, 0, 4, tzinfo=UTC)


def test_six_fields_put_seconds_first() -> None:
    """`5 * * * * *` is second 5 of every minute, not minute 5."""
    schedule = CronSchedule.parse("5 * * * * *")
    start = datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert schedule.next_after(start) == datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_due_between_includes_both_ends() -> None:
    """Every due time in [first, last]."""
    schedule = CronSchedule.parse("* * * * *")
    first = datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
    last = datetime(2025, 1, 1, 0, 3, tzinfo=UTC)
    assert [due.minute for due in schedule.due_between(first, last)] == [1, 2, 3]


@pytest.mark.parametrize(
    "expression", ["0 6 * * 1 2025", "* * *", "61 * * * *", "*/0 * * * *", "a b c d e"]
)
def test_bad_expressions_are_refused(expression: str) -> None:
    """Seven fields, too few, out of range, zero step, garbage."""
    with pytest.raises(CronError, match="cron expression"):
        CronSchedule.parse(expression)


@pytest.mark.parametrize(
    "expression", ["0 6 * * 1", "@weekly", "*/15 8-18 * JAN-MAR mon-fri"]
)
def test_kubernetes_accepts_standard_cron(expression: str) -> None:
    """5 fields with names and ranges, or an alias, pass."""
    check_kubernetes_schedule(expression)


@pytest.mark.parametrize("expression", ["*/2 * * * * *", "0 6 L * *", "0 6 * * 1#2"])
def test_kubernetes_refuses_seconds_and_extensions(expression: str) -> None:
    """A seconds field or croniter's L/# cannot become a CronJob."""
    with pytest.raises(CronError):
        check_kubernetes_schedule(expression)
