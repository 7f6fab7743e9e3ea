"""The form machinery every app shares, after the GOV.UK and NHS.UK form patterns.

`FormRenderer` (settings.FORM_RENDERER) gives every form the `FormField` bound field, which
- replaces Django's generic messages ("This field is required.", "Select a valid choice ...") with ones that
  name the field and say what to do ("Enter the note", "Select the type"); a message a form sets itself wins;
- replaces Django's "- Select an option -" first option of a select with "Choose the ...", and drops it
  from radio buttons;
- says whether its label should end "(optional)" (`is_optional`) and which element an error links to
  (`anchor_id`).
The crispy-forms field template in templates/bootstrap5/ shows hint, error and "(optional)" from these, and
`error_summary` lists the problems in the order the fields appear on the page.
"""

import uuid
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models.utils import get_blank_choice_label
from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property

from hjp.core import widget_html
from hjp.core.dates import LONG_DATE

SUBMISSION_TOKEN = "submission_token"


def _is_django_blank_label(label) -> bool:
    """Django's first option of an optional select: "- Select an option -" (6.1) or "---------" (before)."""
    return str(label) in ("---------", str(get_blank_choice_label()))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class InlineRadioSelect(forms.RadioSelect):
    """Radio buttons side by side, for two to five short options (shown stacked on a narrow screen)."""

    inline = True


class ColumnsCheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """Checkboxes flowing into columns on a wide screen, for a list of short options."""

    columns = True


class DateBoxesWidget(forms.MultiWidget):
    """A date as three boxes, day, month and year (the GOV.UK date input). Each box keeps exactly what was
    typed, so an impossible date like 31 2 1980 comes back as typed with its message."""

    template_name = "core/widgets/date_boxes.html"
    parts = (("day", "Day", "input-width-2"), ("month", "Month", "input-width-2"), ("year", "Year", "input-width-4"))

    def __init__(self, attrs=None, autocomplete_prefix: str = ""):
        widgets = {}
        for part, _label, width in self.parts:
            box = {"inputmode": "numeric", "class": width, "spellcheck": "false"}
            if autocomplete_prefix:
                box["autocomplete"] = f"{autocomplete_prefix}-{part}"
            widgets[part] = forms.TextInput(attrs=box)
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        id_ = context["widget"]["attrs"].get("id")
        for subwidget, (part, label, _width) in zip(context["widget"]["subwidgets"], self.parts, strict=True):
            subwidget["box_label"] = label
            if id_:
                subwidget["attrs"]["id"] = f"{id_}_{part}"
        return context

    @staticmethod
    def anchor_id(id_: str) -> str:
        return f"{id_}_day"


class DateBoxesField(forms.Field):
    """A date typed into day, month and year boxes, with the GOV.UK date messages. `past_only` refuses a date
    after today; `earliest` refuses one before it."""

    widget = DateBoxesWidget
    default_error_messages = {
        "required": "Enter the date",
        "incomplete": "The date must include a %(missing)s",
        "invalid": "The date must be a real date",
        "year": "The year must include 4 numbers",
        "past": "The date must be in the past",
        "too_early": "The date must be on or after %(earliest)s",
    }

    def __init__(self, *, past_only: bool = False, earliest: date | None = None, **kwargs):
        self.past_only = past_only
        self.earliest = earliest
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, date) or value in (None, ""):
            return value or None
        day, month, year = ((part or "").strip() for part in value)
        if not (day or month or year):
            return None
        missing = [name for name, part in (("day", day), ("month", month), ("year", year)) if not part]
        if missing:
            raise ValidationError(
                self.error_messages["incomplete"], code="incomplete", params={"missing": " and ".join(missing)}
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if len(year) != 4:
            raise ValidationError(self.error_messages["year"], code="year")
        try:
            return date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if self.past_only and value > timezone.localdate():
            raise ValidationError(self.error_messages["past"], code="past")
        if self.earliest and value < self.earliest:
            raise ValidationError(
                self.error_messages["too_early"],
                code="too_early",
                params={"earliest": date_format(self.earliest, LONG_DATE)},
            )

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != initial
        except ValidationError:
            return True


NO_ARTICLE_BEFORE = (
    "what",
    "why",
    "how",
    "when",
    "where",
    "who",
    "which",
    "whether",
    "if",
    "your",
    "the",
    "a",
    "an",
    "their",
    "this",
    "any",
)
PREPOSITIONS = ("to", "by", "for", "from", "with", "of", "on", "at", "in")


def _lower_first(text: str) -> str:
    """'Due date' -> 'due date'; 'NHS number' stays as it is."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _as_object(label: str) -> str:
    """A label as the object of "Enter ..." or "Select ...": 'Due date' -> 'the due date', 'What evidence is
    needed' -> 'what evidence is needed', 'Needed by' (not a noun) -> 'an answer for “Needed by”'."""
    text = str(label).strip().rstrip(":")
    words = text.lower().split()
    if not words:
        return "an answer"
    if text.endswith("?") or words[-1] in PREPOSITIONS:
        return f"an answer for “{text}”"
    if words[0] in NO_ARTICLE_BEFORE:
        return _lower_first(text)
    return f"the {_lower_first(text)}"


def _default_messages(field: forms.Field) -> dict:
    messages = {}
    for klass in reversed(type(field).__mro__):
        messages.update(getattr(klass, "default_error_messages", {}))
    return messages


def specific_messages(field: forms.Field, label: str) -> dict[str, str]:
    """GOV.UK-style messages naming the field, for the codes whose Django wording says nothing of it."""
    widget = field.widget
    what = _as_object(label)
    # Codes that carry params are %-formatted: a % in the label must survive that.
    what_p, label_p = what.replace("%", "%%"), str(label).replace("%", "%%")
    if isinstance(widget, forms.CheckboxInput):
        required = f"Select “{label}” to continue"
    elif isinstance(widget, forms.widgets.ChoiceWidget | forms.FileInput) or isinstance(field, forms.ChoiceField):
        required = f"Select {what}"
    else:
        required = f"Enter {what}"
    messages = {
        "required": required,
        "invalid_choice": f"Select {what_p} from the list",
        "invalid_list": f"Select {what_p} from the list",
        "max_length": f"{label_p} must be %(limit_value)d characters or fewer",
        "min_length": f"{label_p} must be %(limit_value)d characters or more",
        "min_value": f"{label_p} must be %(limit_value)s or more",
        "max_value": f"{label_p} must be %(limit_value)s or less",
    }
    if isinstance(field, forms.EmailField):
        messages["invalid"] = "Enter an email address in the correct format, like name@example.com"
    elif isinstance(field, forms.DateTimeField):
        messages["invalid"] = f"{label} must be a real date and time"
    elif isinstance(field, forms.DateField):
        messages["invalid"] = f"{label} must be a real date"
    elif isinstance(field, forms.IntegerField):
        messages["invalid"] = f"{label} must be a whole number"
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        messages["invalid"] = f"{label} must be a number"
    return messages


def prepare_field(field: forms.Field, label: str) -> None:
    """Give one form's field (forms deep-copy their fields, so this changes no other form) the specific
    messages and a meaningful first option. Messages the form set itself are kept."""
    defaults = _default_messages(field)
    for code, message in specific_messages(field, label).items():
        current = field.error_messages.get(code)
        if current is None or str(current) == str(defaults.get(code)):
            field.error_messages[code] = message
    widget = field.widget
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label is not None and _is_django_blank_label(field.empty_label):
            field.empty_label = None if isinstance(widget, forms.RadioSelect) else f"Choose {_as_object(label)}"
    elif isinstance(field, forms.ChoiceField) and isinstance(widget, forms.Select | forms.RadioSelect):
        choices = list(field.choices)
        if choices and choices[0][0] in ("", None) and _is_django_blank_label(choices[0][1]):
            field.choices = (
                choices[1:]
                if isinstance(widget, forms.RadioSelect)
                else [("", f"Choose {_as_object(label)}"), *choices[1:]]
            )


def shows_as_required(field: forms.Field) -> bool:
    """Required now, or a question the form needs in some cases and checks in clean(): required to submit
    (a draft may leave it empty, see `require_to_submit`) or required after a given answer (the questions a
    page reveals). A form marks the latter with `field.shown_as_required = True`; neither is "(optional)"."""
    return field.required or getattr(field, "shown_as_required", False)


def require_to_submit(form: forms.BaseForm, names, *, submitting: bool) -> None:
    """Fields a draft may leave empty but a submission needs: required only when submitting, and shown
    without "(optional)" either way."""
    for name in names:
        form.fields[name].required = submitting
        form.fields[name].shown_as_required = True


class FormField(BoundField):
    def __init__(self, form, field, name):
        super().__init__(form, field, name)
        if not getattr(field, "hjp_prepared", False):
            prepare_field(field, self.label)
            field.hjp_prepared = True

    @property
    def is_optional(self) -> bool:
        """Mark the label "(optional)" (GOV.UK) when a form asks for some things but not this one. A form in
        which nothing is required (a filter) marks nothing; nor does a single checkbox, which is an answer."""
        if self.is_hidden or isinstance(self.field.widget, forms.CheckboxInput) or shows_as_required(self.field):
            return False
        if "optional" in str(self.label).lower():
            return False
        return any(shows_as_required(f) for f in self.form.fields.values() if not f.widget.is_hidden)

    @property
    def anchor_id(self) -> str:
        """The element the error summary links to: the input, the first radio or checkbox, the day box."""
        anchor = getattr(self.field.widget, "anchor_id", None)
        if anchor and self.auto_id:
            return anchor(self.auto_id)
        return self.id_for_label or (f"{self.auto_id}_0" if self.auto_id else "")


class FormRenderer(DjangoTemplates):
    """Django's template renderer, with its own widget templates for inputs, text areas and selects rendered
    in Python (hjp.core.widget_html: the same HTML, without the template engine's cost for every option)."""

    bound_field_class = FormField

    def render(self, template_name, context, request=None):
        html = widget_html.render(template_name, context) if self._widgets_are_djangos else None
        return super().render(template_name, context, request) if html is None else html

    @cached_property
    def _widgets_are_djangos(self) -> bool:
        found = {name: self.get_template(widget_html.WIDGETS + name).origin.name for name in widget_html.TEMPLATES}
        return widget_html.djangos_own(found)


def error_summary(*forms_) -> list[dict]:
    """Every error of the given forms for the summary that heads a page, in page order: pass the forms in
    the order the page shows them; within a form, errors follow the order of its fields. Each item links to
    its field (a hidden field's error has nothing to link to)."""
    items = []
    for form in forms_:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            items.append({"field_id": "", "label": "", "message": message})
        for bound in form:
            anchor = "" if bound.is_hidden else getattr(bound, "anchor_id", "") or bound.id_for_label
            for message in bound.errors:
                items.append({"field_id": anchor, "label": bound.label, "message": message})
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


class ReasonForm(forms.Form):
    """Why, in the user's words, for an action that needs a reason (cancel a referral, mark it sent by mistake,
    reopen a case). The page gives the question as `label`; `required_message` replaces the message made from it."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "input-width-two-thirds"}), max_length=2000
    )

    def __init__(self, *args, label: str = "Reason", required_message: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        if required_message:
            self.fields["reason"].error_messages["required"] = required_message


class _RowChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.rows:
            yield self.choice(row)

    def __len__(self):
        return len(self.field.rows) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.rows)


class RowChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField over rows the page has already read (a prefetched queryset): showing the choices and
    checking the one submitted read nothing more. (ModelChoiceField copies its queryset, dropping what was
    read, so each form showing it would read the rows, and their prefetches, again.)"""

    iterator = _RowChoiceIterator

    def __init__(self, queryset, **kwargs):
        self.rows = list(queryset)
        super().__init__(queryset=queryset, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = self.to_field_name or "pk"
        if isinstance(value, self.queryset.model):
            value = getattr(value, key)
        for row in self.rows:
            if str(getattr(row, key)) == str(value):
                return row
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
