"""Working days in England: Monday to Friday, except England's bank holidays.

Awaab's Law counts most of its periods in working days. The bank holidays come from the
`holidays` library (England subdivision of GB), which is maintained against GOV.UK's list and
includes substitute days ("Boxing Day (observed)") and one-off holidays (a state funeral), so
no date is written by hand here.

Deadlines are kept as instants: the end of the last allowed day in England's own time zone
(Europe/London), so a deadline in British Summer Time is 23:00 UTC.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@cache
def _bank_holidays() -> holidays.HolidayBase:
    # Years are filled in lazily on lookup, so one instance serves every date.
    return holidays.country_holidays("GB", subdiv="ENG")


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England."""
    return day.weekday() < 5 and day not in _bank_holidays()


def bank_holiday_name(day: date) -> str | None:
    name = _bank_holidays().get(day)
    return None if name is None else str(name)


def add_working_days(day_zero: date, days: int) -> date:
    """The `days`-th working day after `day_zero`.

    The day the landlord becomes aware is day zero and day one is the next working day
    (MHCLG, "Awaab's Law: guidance for social landlords", on counting timeframes), so a
    report on a Saturday has the following Monday as its day one.
    """
    if days < 0:
        raise ValueError("days must be zero or more")
    day = day_zero
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def london_date(instant: datetime) -> date:
    """The calendar date in England at an aware instant."""
    return instant.astimezone(LONDON).date()


def end_of_day(day: date) -> datetime:
    """The instant a London calendar day ends (midnight at the start of the next day)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON)
