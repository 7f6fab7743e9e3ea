"""The fixed periods: financial quarters and years from April, their keys, and the digest's spans."""

from datetime import date

import pytest

from outcomes.periods import (
    MONTH,
    QUARTER,
    YEAR,
    FixedPeriod,
    latest_ended_quarter,
    parse,
    quarter_of,
    rolling_twelve_months,
    year_to_date,
)


@pytest.mark.parametrize(
    ("day", "quarter", "first", "last"),
    [
        (date(2026, 4, 1), 1, date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 9, 30), 2, date(2026, 7, 1), date(2026, 9, 30)),
        (date(2026, 12, 31), 3, date(2026, 10, 1), date(2026, 12, 31)),
        (date(2027, 3, 31), 4, date(2027, 1, 1), date(2027, 3, 31)),  # still the financial year 2026-27
    ],
)
def test_financial_quarters_run_from_april(day, quarter, first, last):
    found = quarter_of(day)
    assert (found.year, found.number) == (2026, quarter)
    assert (found.period.start, found.period.end) == (first, last)


def test_a_financial_year_is_its_quarters_and_a_quarter_its_months():
    year = FixedPeriod(YEAR, 2025)
    assert (year.period.start, year.period.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert [q.period.start for q in year.parts()] == [
        date(2025, 4, 1),
        date(2025, 7, 1),
        date(2025, 10, 1),
        date(2026, 1, 1),
    ]
    assert [m.key for m in year.parts()[3].parts()] == ["month-2026-01", "month-2026-02", "month-2026-03"]
    assert year.label == "2025-26 (April 2025 to March 2026)"


@pytest.mark.parametrize(
    "period", [FixedPeriod(MONTH, 2026, 2), FixedPeriod(QUARTER, 2025, 4), FixedPeriod(YEAR, 2099)]
)
def test_a_key_names_its_period_and_nothing_else(period):
    assert parse(period.key) == period


@pytest.mark.parametrize(
    "key", ["", "2026-01", "month-2026-00", "month-2026-13", "quarter-2026-5", "year-26", "year-2026 "]
)
def test_what_is_not_a_key_names_no_period(key):
    assert parse(key) is None


def test_the_last_quarter_that_ended():
    assert latest_ended_quarter(date(2026, 4, 1)) == FixedPeriod(QUARTER, 2025, 4)
    assert latest_ended_quarter(date(2026, 3, 31)) == FixedPeriod(QUARTER, 2025, 3)


def test_the_digests_twelve_months_and_year_to_date_end_with_its_month():
    assert rolling_twelve_months(2026, 3) == FixedPeriod(YEAR, 2025).period
    assert (rolling_twelve_months(2026, 12).start, rolling_twelve_months(2026, 12).end) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert year_to_date(2026, 4) == FixedPeriod(MONTH, 2026, 4).period
    assert year_to_date(2027, 3) == FixedPeriod(YEAR, 2026).period
    assert (year_to_date(2026, 10).start, year_to_date(2026, 10).end) == (date(2026, 4, 1), date(2026, 10, 31))
