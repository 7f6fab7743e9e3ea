"""The small-number rule (outcomes.disclosure) for message templates: {% load disclosure_tags %}."""

from django import template

from outcomes import disclosure

register = template.Library()


@register.filter
def suppress(count: int | None) -> str:
    """{{ count|suppress }}: a count from 1 to 4 as 'fewer than 5'."""
    return disclosure.suppress(count)


@register.filter
def is_small(count: int | None) -> bool:
    return disclosure.is_small(count)


@register.simple_tag
def small_number_threshold() -> str:
    """{% small_number_threshold %}: the 5 of 'fewer than 5'."""
    return str(disclosure.threshold())
