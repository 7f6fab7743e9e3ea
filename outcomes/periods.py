"""The fixed periods that every aggregate outside casework covers: calendar months, financial quarters (April to
June, July to September, October to December, January to March) and financial years (April to March).

Nobody outside the advice service chooses free dates: two periods a day apart would differ by one day's
referrals, and a one-day period would describe one referral. The funder report offers only periods that have
ended, so a period's figures never change from one day to the next as it fills; the managers' dashboard, whose
figures are exact anyway, also offers those under way (see outcomes.disclosure for how the figures of nested
periods are kept from giving a small count away by subtraction)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from outcomes.selectors.figures import Period

MONTH, QUARTER, YEAR = "month", "quarter", "year"
KINDS = {YEAR: "Financial years (April to March)", QUARTER: "Financial quarters", MONTH: "Months"}
FIRST_MONTH_OF_YEAR = 4  # the UK financial year starts in April
_KEY = re.compile(r"^(?:month-(?P<y>\d{4})-(?P<m>\d{2})|quarter-(?P<qy>\d{4})-(?P<q>[1-4])|year-(?P<fy>\d{4}))$")


def financial_year_of(day: date) -> int:
    """The financial year `day` falls in, named by the calendar year it starts in (2025 = April 2025 to March 2026)."""
    return day.year if day.month >= FIRST_MONTH_OF_YEAR else day.year - 1


def _months_from(year: int, month: int, count: int) -> Period:
    first = year * 12 + month - 1
    last = first + count - 1
    return Period(
        start=Period.month(first // 12, first % 12 + 1).start, end=Period.month(last // 12, last % 12 + 1).end
    )


@dataclass(frozen=True)
class FixedPeriod:
    """A month, a financial quarter or a financial year: `kind`, the financial (or calendar, for a month) year
    and the month or quarter number."""

    kind: str
    year: int
    number: int = 0

    @property
    def period(self) -> Period:
        if self.kind == MONTH:
            return Period.month(self.year, self.number)
        if self.kind == QUARTER:
            return _months_from(self.year, FIRST_MONTH_OF_YEAR + 3 * (self.number - 1), 3)
        return _months_from(self.year, FIRST_MONTH_OF_YEAR, 12)

    @property
    def key(self) -> str:
        """How the period is named in a URL (?period=...)."""
        if self.kind == MONTH:
            return f"month-{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"quarter-{self.year}-{self.number}"
        return f"year-{self.year}"

    @property
    def label(self) -> str:
        period = self.period
        if self.kind == MONTH:
            return f"{period.start:%B %Y}"
        years = f"{self.year}-{(self.year + 1) % 100:02d}"
        if self.kind == QUARTER:
            return f"Q{self.number} {years} ({period.start:%b} to {period.end:%b %Y})"
        return f"{years} (April {self.year} to March {self.year + 1})"

    def parts(self) -> list["FixedPeriod"]:
        """The periods one level down that make this one up: a year's quarters, a quarter's months."""
        if self.kind == YEAR:
            return [FixedPeriod(QUARTER, self.year, q) for q in range(1, 5)]
        if self.kind == QUARTER:
            return [FixedPeriod(MONTH, first.year, first.month) for first in self.period.months()]
        return []

    def __str__(self):
        return self.label


def parse(key: str) -> FixedPeriod | None:
    """The period a URL names, or None when the key is not one."""
    found = _KEY.match(key or "")
    if not found:
        return None
    if found["y"]:
        month = int(found["m"])
        return FixedPeriod(MONTH, int(found["y"]), month) if 1 <= month <= 12 else None
    if found["qy"]:
        return FixedPeriod(QUARTER, int(found["qy"]), int(found["q"]))
    return FixedPeriod(YEAR, int(found["fy"]))


@lru_cache(maxsize=256)
def offered_periods(*, since: date, today: date, current: bool = False) -> Mapping[str, tuple[FixedPeriod, ...]]:
    """Every month, quarter and financial year that ended before `today` (with `current`, also those that hold
    it, for the managers' exact dashboard), from the one containing `since` (a partnership's start), newest
    first, by kind (KINDS' order). Worked out once a day for each start date (a partnership a decade old has
    some two hundred periods), not on every dashboard or report request."""
    periods: dict[str, list[FixedPeriod]] = {kind: [] for kind in KINDS}
    first_year = financial_year_of(since)
    for year in range(first_year, financial_year_of(today) + 1):
        candidates = [FixedPeriod(YEAR, year)]
        for quarter in candidates[0].parts():
            candidates += [quarter, *quarter.parts()]
        for candidate in candidates:
            span = candidate.period
            if (span.start <= today if current else span.end < today) and span.end >= since:
                periods[candidate.kind].append(candidate)
    return MappingProxyType(
        {kind: tuple(sorted(found, key=lambda p: p.period.start, reverse=True)) for kind, found in periods.items()}
    )


@lru_cache(maxsize=256)
def period_choices(*, since: date, today: date, current: bool = False) -> tuple:
    """`offered_periods` as a choice field's grouped choices: (kind's name, ((key, label), ...)) for each kind
    that has any."""
    return tuple(
        (KINDS[kind], tuple((option.key, option.label) for option in options))
        for kind, options in offered_periods(since=since, today=today, current=current).items()
        if options
    )


def quarter_of(day: date) -> FixedPeriod:
    """The financial quarter `day` falls in."""
    return FixedPeriod(QUARTER, financial_year_of(day), (day.month - FIRST_MONTH_OF_YEAR) % 12 // 3 + 1)


def latest_ended_quarter(today: date) -> FixedPeriod:
    """The last financial quarter that ended before `today`: what a report shows when no period is chosen."""
    current = quarter_of(today)
    if current.number > 1:
        return FixedPeriod(QUARTER, current.year, current.number - 1)
    return FixedPeriod(QUARTER, current.year - 1, 4)


def rolling_twelve_months(year: int, month: int) -> Period:
    """The twelve calendar months ending with `month` (for the digest)."""
    return _months_from(year, month - 11, 12)


def year_to_date(year: int, month: int) -> Period:
    """From the start of the financial year to the end of `month` (for the digest)."""
    financial_year = financial_year_of(date(year, month, 1))
    months = (year * 12 + month) - (financial_year * 12 + FIRST_MONTH_OF_YEAR) + 1
    return _months_from(financial_year, FIRST_MONTH_OF_YEAR, months)
