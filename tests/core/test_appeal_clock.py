from datetime import date

import pytest

from hjp.core.appeal_clock import add_calendar_months, appeal_due, days_left, reconsideration_due


@pytest.mark.parametrize(
    ("letter", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),  # clamped to the end of a short February
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2026, 1, 29), date(2026, 2, 28)),
        (date(2026, 4, 30), date(2026, 5, 30)),  # not the end of May: the same day of the month
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 8, 31), date(2026, 9, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),  # across the year end
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 2, 28), date(2026, 3, 28)),
        (date(2026, 6, 1), date(2026, 7, 1)),
    ],
)
def test_reconsideration_is_due_one_calendar_month_after_the_decision_letter(letter, due):
    assert reconsideration_due(letter) == due


def test_appeal_is_due_one_calendar_month_after_the_reconsideration_notice():
    assert appeal_due(date(2027, 1, 31)) == date(2027, 2, 28)
    assert appeal_due(date(2024, 1, 31)) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("months", "expected"),
    [(0, date(2026, 1, 31)), (13, date(2027, 2, 28)), (25, date(2028, 2, 29)), (-2, date(2025, 11, 30))],
)
def test_add_calendar_months_over_several_months(months, expected):
    assert add_calendar_months(date(2026, 1, 31), months) == expected


def test_days_left_counts_to_the_due_date_and_goes_negative_when_overdue():
    today = date(2026, 2, 27)
    assert days_left(date(2026, 2, 28), today) == 1
    assert days_left(today, today) == 0
    assert days_left(date(2026, 2, 20), today) == -7
