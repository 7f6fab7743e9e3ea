from django import template
from django.utils import timezone

from hjp.core.appeal_clock import days_left

register = template.Library()


@register.filter
def due_label(due_date) -> str:
    """'due today', 'in 3 days', '2 days overdue'."""
    if not due_date:
        return ""
    days = days_left(due_date, timezone.localdate())
    if days == 0:
        return "due today"
    if days > 0:
        return "in 1 day" if days == 1 else f"in {days} days"
    return "1 day overdue" if days == -1 else f"{-days} days overdue"


@register.filter
def due_class(due_date) -> str:
    if not due_date:
        return "text-bg-secondary"
    days = days_left(due_date, timezone.localdate())
    if days < 0:
        return "text-bg-danger"
    return "text-bg-warning" if days <= 7 else "text-bg-light"
