"""The form machinery every app shares (hjp/core/forms.py and the crispy templates in templates/bootstrap5/)."""

from datetime import date

import pytest
from django import forms
from django.template import Context, Template

from hjp.core.forms import DateBoxesField, RowChoiceField, error_summary, require_to_submit
from referrals.models import Patient, ProblemCategory


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "- Select an option -"), ("call", "Call"), ("letter", "Letter")], label="Type"
    )
    text = forms.CharField(label="Note", max_length=10)
    place = forms.CharField(label="Place", required=False, help_text="Where it happened.")
    needed_by = forms.DateField(label="Needed by")
    what = forms.CharField(label="What evidence is needed", required=False)
    count = forms.IntegerField(label="Length in minutes", required=False, min_value=5)
    agree = forms.BooleanField(label="I have checked it")


class FilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    state = forms.ChoiceField(choices=[("", "Any state"), ("open", "Open")], required=False)


def render(field) -> str:
    return Template("{% load crispy_forms_tags %}{{ field|as_crispy_field }}").render(Context({"field": field}))


def test_generic_messages_name_the_field_and_say_what_to_do():
    form = NoteForm({"kind": "nonsense", "text": "x" * 11, "needed_by": "31/02/2026", "count": "2"})

    assert not form.is_valid()
    assert form.errors["kind"] == ["Select the type from the list"]
    assert form.errors["text"] == ["Note must be 10 characters or fewer"]
    assert form.errors["needed_by"] == ["Needed by must be a real date"]
    assert form.errors["count"] == ["Length in minutes must be 5 or more"]
    assert form.errors["agree"] == ["Select “I have checked it” to continue"]

    empty = NoteForm({})
    assert not empty.is_valid()
    assert empty.errors["kind"] == ["Select the type"]
    assert empty.errors["text"] == ["Enter the note"]
    assert empty.errors["needed_by"] == ["Enter an answer for “Needed by”"]
    assert "This field is required." not in str(empty.errors)


def test_a_message_the_form_sets_itself_is_kept():
    class Own(forms.Form):
        name = forms.CharField(error_messages={"required": "Enter the patient's name"})

    form = Own({})
    form.is_valid()
    assert form.errors["name"] == ["Enter the patient's name"]


def test_a_select_starts_with_choose_not_django_s_default_and_radios_have_no_blank_option():
    class Choices(forms.ModelForm):
        class Meta:
            model = Patient
            fields = ["preferred_contact_method", "sex"]
            widgets = {"sex": forms.RadioSelect}

    form = Choices()
    html = render(form["preferred_contact_method"])
    assert "Select an option" not in html and "---------" not in html
    assert '<option value="" selected>Choose the preferred contact method</option>' in html
    assert 'value=""' not in render(form["sex"])


@pytest.mark.django_db
def test_a_model_choice_starts_with_choose():
    class Pick(forms.Form):
        category = forms.ModelChoiceField(queryset=ProblemCategory.objects.all(), label="Issue category")

    html = render(Pick()["category"])
    assert "Select an option" not in html and '<option value="" selected>Choose the issue category</option>' in html


def test_optional_fields_are_marked_before_any_submit_and_required_ones_are_not():
    form = NoteForm()
    assert 'Place <span class="optional">(optional)</span>' in render(form["place"])
    note = render(form["text"])
    assert "(optional)" not in note and "*" not in note
    # A checkbox is an answer, not an optional question.
    assert "(optional)" not in render(form["agree"])


def test_a_form_where_nothing_is_required_marks_nothing_optional():
    assert "(optional)" not in render(FilterForm()["q"])


def test_required_to_submit_fields_show_as_required_on_a_draft():
    form = NoteForm()
    require_to_submit(form, ["place"], submitting=False)
    assert not form.fields["place"].required
    assert "(optional)" not in render(form["place"])


def test_hint_and_error_come_before_the_input_and_describe_it():
    form = NoteForm({"place": "x", "text": ""})
    form.is_valid()
    html = render(form["text"])
    assert html.index('id="id_text_error"') < html.index("<input")
    assert 'aria-describedby="id_text_error"' in html and 'aria-invalid="true"' in html
    assert '<span class="visually-hidden">Error:</span> Enter the note' in html
    place = render(NoteForm()["place"])
    assert place.index('id="id_place_helptext"') < place.index("<input")
    assert 'aria-describedby="id_place_helptext"' in place


def test_the_error_summary_follows_the_order_of_the_fields_not_of_the_checks():
    class Ordered(forms.Form):
        first = forms.CharField(required=False)
        second = forms.CharField()
        third = forms.CharField(required=False)

        def clean(self):
            # A cross-field check adds its error after the field checks have run.
            self.add_error("first", "Enter the first")
            return self.cleaned_data

    first_form = Ordered({"second": ""})
    other = NoteForm({"text": ""})
    items = error_summary(first_form, other)
    assert [i["field_id"] for i in items][:3] == ["id_first", "id_second", "id_kind"]
    assert items[0]["message"] == "Enter the first"


def test_the_error_summary_links_radios_to_the_first_option_and_a_date_to_its_day_box():
    class Dated(forms.Form):
        how = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect, label="Kind")
        when = DateBoxesField(label="Date of the letter")

    items = error_summary(Dated({}))
    assert [i["field_id"] for i in items] == ["id_how_0", "id_when_day"]
    assert [i["message"] for i in items] == ["Select the kind", "Enter the date of the letter"]


class Dated(forms.Form):
    when = DateBoxesField(label="Date of birth", past_only=True, earliest=date(1900, 1, 1), required=False)


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("31", "2", "1980", "The date must be a real date"),
        ("14", "", "1958", "The date must include a month"),
        ("", "", "1958", "The date must include a day and month"),
        ("14", "3", "58", "The year must include 4 numbers"),
        ("x", "3", "1958", "The date must be a real date"),
        ("1", "1", "2999", "The date must be in the past"),
        ("31", "12", "1899", "The date must be on or after 1 January 1900"),
    ],
)
def test_date_boxes_explain_what_is_wrong_and_keep_what_was_typed(day, month, year, message):
    form = Dated({"when_day": day, "when_month": month, "when_year": year})

    assert not form.is_valid()
    assert form.errors["when"] == [message]
    html = render(form["when"])
    for box, typed in (("day", day), ("month", month), ("year", year)):
        expected = f'value="{typed}"' if typed else ""
        start = html.index(f'id="id_when_{box}"')
        tag = html[html.rindex("<input", 0, start) : html.index(">", start)]
        assert expected in tag


def test_date_boxes_take_a_real_date_and_show_a_saved_one():
    form = Dated({"when_day": " 4 ", "when_month": "03", "when_year": "1958"})
    assert form.is_valid() and form.cleaned_data["when"] == date(1958, 3, 4)
    assert Dated({"when_day": "", "when_month": "", "when_year": ""}).is_valid()

    html = render(Dated(initial={"when": date(1960, 5, 17)})["when"])
    assert 'value="17"' in html and 'value="5"' in html and 'value="1960"' in html
    assert 'inputmode="numeric"' in html and "<legend" in html
    assert '<label class="form-label mb-1" for="id_when_day">Day</label>' in html


@pytest.mark.django_db
def test_the_sign_in_summary_says_what_to_do_without_repeating_the_label(client):
    html = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert '<a href="#id_username">Enter your email address</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html


@pytest.mark.django_db
def test_a_choice_of_rows_already_read_lists_and_checks_them_without_a_query(django_assert_num_queries):
    chosen, other, elsewhere = (ProblemCategory.objects.create(code=f"c{i}", name=f"Category {i}") for i in range(3))
    rows = ProblemCategory.objects.filter(pk__in=[chosen.pk, other.pk]).order_by("pk")
    with django_assert_num_queries(1):  # reading the rows, once
        field = RowChoiceField(rows, empty_label=None)
    with django_assert_num_queries(0):
        assert [label for _, label in field.choices] == ["Category 0", "Category 1"]
        assert field.clean(str(other.pk)) == other
        with pytest.raises(forms.ValidationError):
            field.clean(str(elsewhere.pk))  # a row the page did not offer
