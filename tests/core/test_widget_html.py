"""The app's form renderer gives exactly the HTML Django's widget templates give (hjp.core.widget_html renders
inputs, text areas and selects in Python), for every kind of value and label, escaped the same way."""

from datetime import date

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from hjp.core import widget_html
from hjp.core.forms import FormRenderer
from referrals.models import ProblemCategory

AWKWARD = 'Smith & "Jones" <b>O\'Neil</b>'


class Everything(forms.Form):
    text = forms.CharField(required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "data-x": AWKWARD}))
    empty_text = forms.CharField(required=False)
    number = forms.IntegerField(required=False)
    decimal = forms.DecimalField(required=False)
    email = forms.EmailField(required=False)
    when = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    tick = forms.BooleanField(required=False)
    untick = forms.BooleanField(required=False)
    note = forms.CharField(required=False, widget=forms.Textarea)
    empty_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "disabled": True}))
    choice = forms.ChoiceField(
        required=False,
        choices=[("", "---------"), ("a", AWKWARD), ("b&", gettext_lazy("Benefits")), ("c", mark_safe("<i>safe</i>"))],
    )
    grouped = forms.ChoiceField(
        required=False,
        choices=[("Money", [("debt", "Debt"), ("benefits", "Benefits")]), ("Home", [("housing", "Housing")])],
    )
    numbered = forms.TypedChoiceField(required=False, choices=[(1, 1), (2, 2)], coerce=int)  # labels the engine formats
    many = forms.MultipleChoiceField(required=False, choices=[("x", "X"), ("y", "Y"), ("z", "Z")])
    yes_no = forms.NullBooleanField(required=False)
    category = forms.ModelChoiceField(required=False, queryset=ProblemCategory.objects.order_by("name"))


VALUES = [
    {},
    {
        "text": AWKWARD,
        "number": "12",
        "decimal": "1234.50",
        "email": "a@b.test",
        "when": "2026-11-30",
        "hidden": '"quoted"',
        "secret": "<pw>",
        "tick": "on",
        "note": "Line one\n<script>alert(1)</script> & more",
        "choice": "b&",
        "grouped": "benefits",
        "numbered": "2",
        "many": ["x", "z"],
        "yes_no": "true",
    },
    {"text": "", "number": "not a number", "when": "30/11/2026", "choice": "nonsense", "many": ["nonsense"]},
]


class TemplatesOnly(FormRenderer):
    """The app's renderer with every widget rendered by Django's templates."""

    def render(self, template_name, context, request=None):
        return DjangoTemplates.render(self, template_name, context, request)


@pytest.mark.django_db
@pytest.mark.parametrize("data", VALUES)
def test_every_widget_renders_as_djangos_templates_render_it(data):
    ProblemCategory.objects.get_or_create(name=AWKWARD, defaults={"code": "awkward"})
    initial = {"when": date(2026, 11, 30), "untick": False, "number": 7}
    ours = Everything(data or None, initial=initial, renderer=FormRenderer())
    djangos = Everything(data or None, initial=initial, renderer=TemplatesOnly())
    for name in ours.fields:
        assert str(ours[name]) == str(djangos[name]), name
    assert str(ours) == str(djangos)  # labels, errors and help texts too


def test_the_apps_renderer_renders_these_widgets_in_python_and_any_other_by_its_template():
    context = forms.Select(choices=[("a", "A")]).get_context("f", "a", {})
    assert FormRenderer()._widgets_are_djangos  # every template the functions stand for is Django's own file
    assert widget_html.render("django/forms/widgets/select.html", context) == (
        '<select name="f">\n  <option value="a" selected>A</option>\n\n</select>'
    )
    assert widget_html.render("django/forms/widgets/radio.html", context) is None
    text = forms.TextInput().get_context("t", "x", {"data-x": lambda: "called"})
    assert widget_html.render("django/forms/widgets/text.html", text) is None  # the engine calls a callable
    origins = {name: f"/somewhere/{name}" for name in widget_html.TEMPLATES}
    assert not widget_html.djangos_own(origins)  # an app's own template of one of those names: its template


def test_a_callable_attribute_is_rendered_as_djangos_template_renders_it():
    ours = forms.TextInput(attrs={"data-x": lambda: "called"}).render("t", "x", renderer=FormRenderer())
    assert ours == forms.TextInput(attrs={"data-x": lambda: "called"}).render("t", "x", renderer=TemplatesOnly())
    assert 'data-x="called"' in ours
