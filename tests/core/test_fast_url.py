"""`{% url %}` made from each view's shape gives exactly what Django's `reverse` gives, for every URL of the app
that takes whole numbers (hjp/core/templatetags/fast_url.py), and anything else is Django's own tag."""

import pytest
from django.template import engines
from django.test import override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, path, re_path, reverse
from django.urls.converters import IntConverter

from hjp.core.templatetags.fast_url import _from_shape


def _named_patterns(patterns=None, namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def _taking_numbers():
    views = {}
    for name, entry in _named_patterns():
        converters = getattr(entry.pattern, "converters", {})
        if converters and all(isinstance(c, IntConverter) for c in converters.values()):
            views[name] = len(converters)
    return sorted(views.items())


def test_the_app_has_urls_that_take_numbers():
    names = dict(_taking_numbers())
    assert names["referrals:detail"] == 1 and names["casework:case"] == 1 and len(names) > 40


@pytest.mark.parametrize(("view_name", "count"), _taking_numbers())
def test_every_url_taking_numbers_is_the_one_reverse_gives(view_name, count):
    for numbers in ((1,) * count, tuple(range(7, 7 + count)), (1234567890123,) * count):
        try:
            expected = reverse(view_name, args=numbers)
        except NoReverseMatch:  # a name shared by patterns of other shapes: then both must refuse
            with pytest.raises(NoReverseMatch):
                _from_shape(view_name, list(numbers), None) or reverse(view_name, args=numbers)
            continue
        assert _from_shape(view_name, list(numbers), None) == expected


def test_the_tag_gives_the_same_links_and_leaves_anything_else_to_django():
    template = engines["django"].from_string(
        "{% url 'referrals:detail' pk %}|{% url 'referrals:detail' text %}|{% url 'referrals:detail' pk as link %}"
        "{{ link }}|{% url 'referrals:list' %}|{% url 'casework:case' pk=pk %}"
    )
    assert type(template.template.nodelist[0]).__name__ == "FastURLNode"  # the engine's builtin, in every template
    rendered = template.render({"pk": 42, "text": "43"}).split("|")
    assert rendered == [
        reverse("referrals:detail", args=[42]),
        reverse("referrals:detail", args=["43"]),
        reverse("referrals:detail", args=[42]),
        reverse("referrals:list"),
        reverse("casework:case", kwargs={"pk": 42}),
    ]
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'referrals:detail' -1 %}").render({})
    with pytest.raises(NoReverseMatch):
        engines["django"].from_string("{% url 'no-such-view' 5 %}").render({})


# A URLconf of this module's own (ROOT_URLCONF="tests.core.test_fast_url"): a pattern that takes only long numbers.
urlpatterns = [
    re_path(r"^long/(?P<n>[0-9]{5,})/$", lambda request, n: None, name="long"),
    path("any/<int:n>/", lambda request, n: None, name="any"),
]


def test_a_pattern_that_takes_only_long_numbers_is_left_to_reverse():
    with override_settings(ROOT_URLCONF="tests.core.test_fast_url"):
        assert _from_shape("long", [5], None) is None
        with pytest.raises(NoReverseMatch):
            engines["django"].from_string("{% url 'long' 5 %}").render({})
        assert engines["django"].from_string("{% url 'long' 12345 %}").render({}) == "/long/12345/"
        assert engines["django"].from_string("{% url 'any' 5 %}").render({}) == "/any/5/"
    assert engines["django"].from_string("{% url 'referrals:detail' 5 %}").render({}) == "/referrals/5/"
