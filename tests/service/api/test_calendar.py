"""Trading-day dates: the checks on posted dates and the weekdays a forecast is for."""

from __future__ import annotations

import datetime as dt

import pytest

from service.api.calendar import business_days_after, check_dates, next_business_day
from service.errors import InvalidInput

FRIDAY = dt.date(2026, 11, 27)


def test_the_next_business_day_skips_the_weekend() -> None:
    assert next_business_day(FRIDAY) == dt.date(2026, 11, 30)
    assert next_business_day(dt.date(2026, 11, 28)) == dt.date(2026, 11, 30)  # Saturday
    assert next_business_day(dt.date(2026, 11, 30)) == dt.date(2026, 12, 1)
    assert business_days_after(FRIDAY, 3) == [dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)]


def test_dates_must_match_the_window_and_increase() -> None:
    days = [FRIDAY + dt.timedelta(days=i) for i in range(5)]
    check_dates(days, 5)
    with pytest.raises(InvalidInput, match=r"'dates' has 4 dates; it must have one per price \(5\)"):
        check_dates(days[:4], 5)
    with pytest.raises(InvalidInput, match=r"dates\[3\] \(2026-11-29\) is not after dates\[2\] \(2026-11-29\)"):
        check_dates([*days[:3], days[2], days[4]], 5)
