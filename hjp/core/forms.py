import uuid

from django import forms

SUBMISSION_TOKEN = "submission_token"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def error_summary(*forms_) -> list[dict]:
    """Every error of the given forms, each with the id of the field it belongs to, for the summary that
    heads a page and links to each field."""
    items = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            items.append({"field_id": "", "label": "", "message": message})
        for name, errors in form.errors.items():
            if name == "__all__":
                continue
            bound = form[name]
            for message in errors:
                # Radio buttons and checkbox groups have no single labelled input: link to the first.
                field_id = bound.id_for_label or f"{bound.auto_id}_0"
                items.append({"field_id": field_id, "label": bound.label, "message": message})
    return items


class SubmissionTokenMixin:
    """Gives a create form a hidden one-time token, made when the form is rendered, which its service records
    (see hjp.core.submissions) so that the form saves once however often it is sent. After validation the token
    is `form.submission_token`, not part of `cleaned_data`. A POST without a valid token (a page older than
    this mechanism) keeps what was typed and asks to send it again, with a fresh token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[SUBMISSION_TOKEN] = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
        self.submission_token = None
        self._token_missing = False
        if self.is_bound:
            key = self.add_prefix(SUBMISSION_TOKEN)
            try:
                uuid.UUID(str(self.data.get(key, "")))
            except ValueError:
                self._token_missing = True
                self.data = self.data.copy()
                self.data[key] = str(uuid.uuid4())

    def clean(self):
        cleaned = super().clean()
        self.submission_token = cleaned.pop(SUBMISSION_TOKEN, None)
        if self._token_missing:
            raise forms.ValidationError("This page was out of date. Check your answers and send the form again.")
        return cleaned


class VersionMixin:
    """Gives the edit form of a versioned model (hjp.core.versioning) a hidden `version`: the one the record
    had when the form was loaded. After validation it is `form.version` (None for a new record), not part of
    `cleaned_data`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        editing = instance is not None and instance.pk is not None
        self.fields["version"] = forms.IntegerField(
            widget=forms.HiddenInput, min_value=1, required=editing, initial=instance.version if editing else None
        )
        self.version = None

    def clean(self):
        cleaned = super().clean()
        self.version = cleaned.pop("version", None)
        return cleaned
