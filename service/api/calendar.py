"""Trading-day dates: the dates a client sends checked, and the weekdays a forecast is for."""

from __future__ import annotations

import datetime as dt

from service.errors import InvalidInput


def check_dates(dates: list[dt.date], window: int) -> None:
    """Dates must match the window one to one and increase strictly."""
    if len(dates) != window:
        raise InvalidInput(f"'dates' has {len(dates)} dates; it must have one per price ({window})")
    for i in range(1, len(dates)):
        if dates[i] <= dates[i - 1]:
            raise InvalidInput(f"dates[{i}] ({dates[i]}) is not after dates[{i - 1}] ({dates[i - 1]})")


def next_business_day(day: dt.date) -> dt.date:
    """The next Monday-to-Friday date after `day`."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def business_days_after(day: dt.date, count: int) -> list[dt.date]:
    """The `count` weekdays after `day`."""
    days = []
    for _ in range(count):
        day = next_business_day(day)
        days.append(day)
    return days
