"""Properties of the appeal clock over generated dates (Hypothesis): later letters never give earlier deadlines,
a month on is always in the next month, and a day past a shorter month's end is clamped to that end."""

import calendar
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hjp.core.appeal_clock import add_calendar_months, appeal_due, days_left, reconsideration_due

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
months = st.integers(min_value=0, max_value=36)


def month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


@given(days, days, months)
def test_a_later_date_never_gives_an_earlier_deadline(first, second, n):
    early, late = sorted([first, second])
    assert add_calendar_months(early, n) <= add_calendar_months(late, n)


@given(days, months, months)
def test_more_months_never_give_an_earlier_deadline(day, n, m):
    fewer, more = sorted([n, m])
    assert add_calendar_months(day, fewer) <= add_calendar_months(day, more)


@given(days, months)
def test_the_deadline_is_n_months_on_on_the_same_day_or_that_months_last_day(day, n):
    due = add_calendar_months(day, n)
    last_day = calendar.monthrange(due.year, due.month)[1]
    assert month_number(due) == month_number(day) + n
    assert due.day == min(day.day, last_day)
    assert (due.day == day.day) or (due.day == last_day < day.day)  # clamped only past a shorter month's end


@given(days)
def test_reconsideration_and_appeal_are_due_a_calendar_month_on(letter):
    due = reconsideration_due(letter)
    assert letter + timedelta(days=28) <= due <= letter + timedelta(days=31)
    assert month_number(due) == month_number(letter) + 1
    assert appeal_due(letter) == due  # the same one-month rule for the tribunal


@given(days, days)
def test_days_left_counts_to_the_due_date(due, today):
    left = days_left(due, today)
    assert today + timedelta(days=left) == due
    assert (left < 0) == (today > due)
