from django import template
from django.utils import timezone
from django.utils.formats import date_format

from hjp.core import dates
from hjp.core.money import format_money
from hjp.core.nhs_number import format_nhs_number
from hjp.core.text import full_stop as _full_stop

register = template.Library()

STATUS_CLASSES = {
    "draft": "text-bg-secondary",
    "submitted": "text-bg-primary",
    "accepted": "text-bg-info",
    "in_progress": "text-bg-info",
    "declined": "text-bg-warning",
    "redirected": "text-bg-warning",
    "closed": "text-bg-success",
    "cancelled": "text-bg-dark",
    "entered_in_error": "text-bg-dark",
}


@register.filter
def days_since(value) -> str:
    if not value:
        return ""
    days = (timezone.localdate() - timezone.localtime(value).date()).days
    return "today" if days == 0 else ("1 day" if days == 1 else f"{days} days")


@register.filter(expects_localtime=True)
def date_only(value) -> str:
    """A date (or the day of a datetime) in the one date format: 5 Mar 2026."""
    return date_format(value, dates.DATE) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def date_time(value) -> str:
    """A datetime, in local time, in the one date-and-time format: 5 Mar 2026 14:30."""
    return date_format(value, dates.DATE_TIME) if value not in (None, "") else ""


@register.filter
def money(value) -> str:
    """An amount of money as everywhere else: {{ amount|money }} gives £3,842.80 (and - for none)."""
    return format_money(value)


@register.filter
def full_stop(value: str) -> str:
    """{% filter full_stop %}...{% endfilter %} ends the sentence with one full stop (see hjp.core.text)."""
    return _full_stop(value)


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "text-bg-secondary")


@register.filter
def nhs_number(value) -> str:
    return format_nhs_number(value)
