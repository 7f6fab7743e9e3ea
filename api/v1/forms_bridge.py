"""The API validates what a system sends with the very forms the pages use (the same rules, the same words):
JSON is turned into the form data a browser would post, and the forms' errors into the API's, each named by
its section and field ("patient.nhs_number")."""

import uuid
from datetime import date, datetime

from django import forms
from django.http import QueryDict
from django.utils import timezone

from hjp.core.forms import SUBMISSION_TOKEN, DateBoxesField


def form_data(form_class, values: dict, *, prefix: str | None = None) -> QueryDict:
    """What a browser would post for `values` (already of the right Python types) to a `form_class` form."""
    data = QueryDict(mutable=True)
    fields = form_class.base_fields
    key = (lambda name: f"{prefix}-{name}") if prefix else (lambda name: name)
    for name, value in values.items():
        if value is None:
            continue
        field = fields.get(name)
        if isinstance(field, DateBoxesField) and isinstance(value, date):
            for part, number in zip(("day", "month", "year"), (value.day, value.month, value.year), strict=True):
                data[f"{key(name)}_{part}"] = str(number)
        elif isinstance(value, bool):
            if value:
                data[key(name)] = "on"
        elif isinstance(value, list):
            data.setlist(key(name), [str(item) for item in value])
        elif isinstance(value, datetime):
            data[key(name)] = timezone.localtime(value).strftime("%Y-%m-%dT%H:%M:%S")
        elif isinstance(value, date):
            data[key(name)] = value.isoformat()
        else:
            data[key(name)] = str(value)
    # A system's request is sent once per Idempotency-Key (api.idempotency), not once per rendered form.
    data[key(SUBMISSION_TOKEN)] = str(uuid.uuid4())
    return data


def form_errors(form: forms.BaseForm, section: str = "") -> dict[str, list[str]]:
    """A bound form's errors by API name: "<section>.<field>", or the section alone for the form as a whole."""
    errors = {}
    for name, messages in form.errors.items():
        api_name = section if name == forms.forms.NON_FIELD_ERRORS else ".".join(filter(None, [section, name]))
        errors.setdefault(api_name or "non_field_errors", []).extend(str(m) for m in messages)
    return errors


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as {"section.field": [messages]}."""
    if isinstance(detail, dict):
        flat = {}
        for name, inner in detail.items():
            name = "" if name == "non_field_errors" else str(name)
            for key, messages in flatten_errors(inner, ".".join(filter(None, [prefix, name]))).items():
                flat.setdefault(key, []).extend(messages)
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for position, inner in enumerate(detail):
            if inner:
                flat.update(flatten_errors(inner, f"{prefix}.{position}" if prefix else str(position)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}
