"""The UK benefit appeal clock: calendar-month arithmetic for reconsideration and appeal deadlines."""

import calendar
from datetime import date


def add_calendar_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the last day of a shorter month
    (31 January + 1 month = 28 or 29 February; 30 April + 1 month = 30 May)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def reconsideration_due(decision_letter_date: date) -> date:
    """A mandatory reconsideration is due one calendar month after the date of the decision letter."""
    return add_calendar_months(decision_letter_date, 1)


def appeal_due(reconsideration_notice_date: date) -> date:
    """An appeal to the tribunal is due one calendar month after the mandatory reconsideration notice."""
    return add_calendar_months(reconsideration_notice_date, 1)


def days_left(due: date, today: date) -> int:
    """Whole days from today to the due date: 0 on the day, negative when overdue."""
    return (due - today).days
