from django import template

from outcomes.selectors import suppress

register = template.Library()

register.filter("suppress", suppress)
