from datetime import date, datetime
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

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
    if value in (None, ""):
        return ""
    return _day(value.date() if isinstance(value, datetime) else value, get_language())


@lru_cache(maxsize=4096)
def _day(day: date, language: str | None) -> str:
    """A day in the date format, in the language active (the key), made once: a list of cases shows a few
    dozen dates, mostly the same few, and formatting one takes Django some 40 microseconds."""
    return date_format(day, dates.DATE)


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


@register.filter
def select_options(choices: tuple, selected) -> str:
    """A select's <option>s (in <optgroup>s where the choices are grouped), the one whose value is `selected`
    marked so. For a long list that stays the same from request to request (the periods a report offers: some
    two hundred), given as a tuple: its HTML is made once for each selection, not by a template loop of several
    nodes an option on every request."""
    return _options_html(choices, "" if selected is None else str(selected))


@lru_cache(maxsize=256)
def _options_html(choices: tuple, selected: str) -> str:
    def option(value, label) -> str:
        return format_html(
            '<option value="{}"{}>{}</option>', value, " selected" if str(value) == selected else "", label
        )

    parts = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            inner = mark_safe("".join(option(*choice) for choice in label))  # each option escaped by format_html
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', value, inner))
        else:
            parts.append(option(value, label))
    return mark_safe("".join(parts))  # each part escaped by format_html
