"""AR periods are months, named 'YYYY-MM'. A date in a closed period cannot be touched."""

from __future__ import annotations

import re
from datetime import date

from xlar.domain.errors import InvalidSetting, PeriodClosed
from xlar.domain.terms import add_months, month_end

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_of(on: date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


def parse_period(text: str) -> date:
    """The first day of period TEXT ('2026-03')."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise InvalidSetting(f"period must look like 2026-03, got {text!r}")
    return date(int(match[1]), int(match[2]), 1)


def first_day(period: str) -> date:
    return parse_period(period)


def last_day(period: str) -> date:
    return month_end(parse_period(period))


def next_period(period: str) -> str:
    return period_of(add_months(parse_period(period), 1))


def previous_period(period: str) -> str:
    return period_of(add_months(parse_period(period), -1))


def first_open_day(closed_period: str | None) -> date | None:
    """The first day after the last closed period (None when nothing is closed)."""
    return first_day(next_period(closed_period)) if closed_period else None


def ensure_open(on: date, closed_period: str | None, what: str) -> None:
    """Refuse to create, change, void or allocate WHAT dated ON inside a closed period."""
    opens = first_open_day(closed_period)
    if opens is not None and on < opens:
        raise PeriodClosed(
            f"{what} is dated {on.isoformat()}, in period {period_of(on)} which is closed "
            f"(closed through {closed_period})"
        )
