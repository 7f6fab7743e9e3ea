"""`{% url %}` as Django's, with the link to a view taking whole numbers (a referral's id, a case's) made from
the view's reversed URL once per process rather than reversed again for every row: a triage page of 25 referrals
has over a hundred such links, and each reverse walks the URL patterns and quotes its arguments. A builtin of the
template engine (settings TEMPLATES), so it stands in for Django's tag in every template.

A view's URL for positive whole numbers is reversed once with distinctive 19-digit numbers in their place; where
each appears exactly once, and the URL made so for 1s is the one `reverse` gives for 1s, the URL for any other
positive whole numbers is that URL with theirs put in (the same as `reverse` would give: Django's int converter
and a `[0-9]+` group take any such number, written in decimal; the app's URLs are all so, and a pattern that took
1 and a 19-digit number but not some number between would be misread).
Anything else (keyword arguments, text, zero or negative numbers, a view whose URL does not show its numbers
plainly) is reversed by Django as before. tests/core/test_fast_url.py compares the two for every URL of the
app that takes numbers."""

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

_MARKS = tuple(str(7_390_000_000_000_000_011 + n * 1_000_003) for n in range(4))  # not any real id
_SHAPES: dict[tuple, tuple[str, ...] | None] = {}  # (view, number of args, ...) -> the URL split at its numbers
_SHAPES_KEPT = 4096


def _shape(view_name, count, current_app) -> tuple[str, ...] | None:
    key = (view_name, count, current_app, get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF, get_language())
    if key not in _SHAPES:
        if len(_SHAPES) >= _SHAPES_KEPT:
            _SHAPES.clear()
        shape = None
        try:
            reversed_url = reverse(view_name, args=_MARKS[:count], current_app=current_app)
        except NoReverseMatch:  # no shape: Django's reverse, with its own errors, at each use
            reversed_url = None
        if reversed_url is not None and all(reversed_url.count(mark) == 1 for mark in _MARKS[:count]):
            pieces, rest = [], reversed_url
            for mark in _MARKS[:count]:
                before, rest = rest.split(mark)
                pieces.append(before)
            shape = (*pieces, rest)
            ones = [1] * count
            try:
                if _made(shape, ones) != reverse(view_name, args=ones, current_app=current_app):
                    shape = None
            except NoReverseMatch:
                shape = None
        _SHAPES[key] = shape
    return _SHAPES[key]


def _from_shape(view_name, args, current_app) -> str | None:
    """The URL `reverse` would give, from the view's shape; None when there is no shape to use."""
    if not 0 < len(args) <= len(_MARKS) or not all(type(arg) is int and arg > 0 for arg in args):
        return None
    shape = _shape(view_name, len(args), current_app)
    if shape is None:
        return None
    return _made(shape, args)


def _made(shape, args) -> str:
    return "".join(piece + str(arg) for piece, arg in zip(shape, args, strict=False)) + shape[-1]


class FastURLNode(URLNode):
    def render(self, context):
        if self.kwargs or not self.args:
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        args = [arg.resolve(context) for arg in self.args]
        url = _from_shape(self.view_name.resolve(context), args, current_app)
        if url is None:
            return super().render(context)  # Django's tag, which reverses (and raises as it does)
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return FastURLNode(node.view_name, node.args, node.kwargs, node.asvar)
