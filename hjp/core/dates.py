"""The date formats every page, message and report uses, named once (Django's date-format letters). Templates
use them through the `date_only` and `date_time` filters (hjp_tags); code through the functions below."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format

DATE = "j M Y"  # 5 Mar 2026
DATE_TIME = "j M Y H:i"  # 5 Mar 2026 14:30, local time
LONG_DATE = "j F Y"  # 5 March 2026, in error messages (GOV.UK style)


def format_date(value: date) -> str:
    return date_format(value, DATE)


def format_date_time(value: datetime) -> str:
    """An aware datetime, in local time."""
    return date_format(timezone.localtime(value), DATE_TIME)


def start_of_today() -> datetime:
    """Midnight at the start of today, local time: where "today" and "this week" begin on every page."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
