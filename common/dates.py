"""Accountants' days: whole days in the service's time zone (DJANGO_TIME_ZONE)."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def local_midnight(day: date) -> datetime:
    """The first instant of `day` in the current time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """[start of `first`, start of the day after `last`): inclusive days as a half-open
    interval of instants; a missing day leaves that side open (None)."""
    return (
        local_midnight(first) if first else None,
        local_midnight(last + timedelta(days=1)) if last else None,
    )


def yesterday_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start of yesterday, start of today) in the current time zone."""
    today = timezone.localtime(now).date()
    return day_bounds(today - timedelta(days=1), today - timedelta(days=1))


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD query parameter as a date; None when absent or malformed."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
