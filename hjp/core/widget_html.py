"""Django's own widget templates for inputs, text areas and selects, written as Python.

Every form field's widget is rendered through the form renderer, and Django's templates for them include an
option template and an attributes template for every option: a filter bar of eight fields with thirty options
cost a page about 10 ms, most of it in the template engine. `render` gives exactly what those templates give
(tests/core/test_widget_html.py compares the two on every kind of widget the app uses) for the templates below,
and only while Django's files are the ones these functions were written from (`TEMPLATES`, checked when first
used, with every template they include); anything else (another widget, an app's own template of one of those
names, an option label that is not text, a callable value) is rendered by the template as before."""

from functools import cache
from pathlib import Path

import django.forms
from django.utils.functional import Promise
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

WIDGETS = "django/forms/widgets/"
_FOLDER = Path(django.forms.__file__).parent / "templates" / WIDGETS  # where Django keeps them
_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
INPUT_TEMPLATES = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)

# The sources these functions reproduce, as Django ships them.
TEMPLATES = {
    "attrs.html": "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}{% endfor %}",
    "input.html": '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %} value="{{ widget.value|stringformat:\'s\' }}"{% endif %}{% include "django/forms/widgets/attrs.html" %}>\n',
    "textarea.html": '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n',
    "select.html": '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>{% for group_name, group_choices, group_index in widget.optgroups %}{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}{% for option in group_choices %}\n  {% include option.template_name with widget=option %}{% endfor %}{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n',
    "select_option.html": '<option value="{{ widget.value|stringformat:\'s\' }}"{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n',
    **{f"{name}.html": _INPUT for name in INPUT_TEMPLATES},
}


@cache
def _django_ships_these() -> bool:
    return all((_FOLDER / name).read_text() == source for name, source in TEMPLATES.items())


class _NotText(Exception):
    """Something these functions do not write as the template would (a label the engine would localise, a
    callable it would call, another option template): left to the template."""


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}` with autoescaping (a callable the engine would call: left to it)."""
    if isinstance(value, tuple) or callable(value):
        raise _NotText
    return str(value) if isinstance(value, SafeData) else escape(value)


def _label(value) -> str:
    """`{{ value }}` with autoescaping, for text (the engine localises numbers and dates: those are not done here)."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _NotText
    return conditional_escape(value)


def _attrs(attrs: dict) -> str:
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    return f'<input type="{_label(widget["type"])}" name="{_label(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _textarea(widget: dict) -> str:
    value = _label(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_label(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget: dict) -> str:
    parts = [f'<select name="{_label(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_label(group_name)}">')
        for option in group_choices:
            if option["template_name"] != WIDGETS + "select_option.html":
                raise _NotText
            parts.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>{_label(option["label"])}</option>\n'
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_RENDERERS = {
    WIDGETS + "select.html": _select,
    WIDGETS + "textarea.html": _textarea,
    **{f"{WIDGETS}{name}.html": _input for name in INPUT_TEMPLATES},
}


def djangos_own(origins: dict[str, str]) -> bool:
    """Whether the files a renderer's engine finds for these templates (name -> the file found for
    django/forms/widgets/<name>) are Django's own, as these functions were written from."""
    return _django_ships_these() and all(origins.get(name) == str(_FOLDER / name) for name in TEMPLATES)


def render(template_name: str, context: dict) -> str | None:
    """The widget's HTML as Django's template `template_name` would render it (with the renderer's final
    strip), or None when it is not one of these. Only for a renderer whose templates are Django's own
    (`djangos_own`)."""
    function = _RENDERERS.get(template_name)
    if function is None:
        return None
    try:
        return mark_safe(function(context["widget"]).strip())
    except _NotText:
        return None
