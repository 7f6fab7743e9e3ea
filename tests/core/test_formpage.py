"""The form-page idiom written once (hjp.core.formpage.submit_form): what a user sees after each outcome of
the one service a form calls."""

from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from hjp.core.errors import DomainError
from hjp.core.formpage import submit_form
from hjp.core.submissions import AlreadySubmitted
from hjp.core.versioning import StaleVersionError


class NoteForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField()
    reason = forms.CharField(required=False)


class TooLate(DomainError):
    pass


def post(data):
    request = RequestFactory().post("/", data)
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def shown(request):
    return [str(m) for m in get_messages(request)]


def raising(exc):
    def perform(_data):
        raise exc

    return perform


def test_a_saved_form_gives_what_the_service_returned():
    request = post({"version": 3, "text": "Rang the patient"})
    submission = submit_form(request, NoteForm(request.POST), lambda data: data["text"].upper())
    assert submission.saved and submission.done and submission.result == "RANG THE PATIENT"


def test_nothing_is_called_on_a_get_or_with_errors_in_the_form():
    called = []
    request = post({"version": 3, "text": ""})
    submission = submit_form(request, form := NoteForm(request.POST), called.append)
    assert not submission.done and called == [] and form.errors["text"]
    get = RequestFactory().get("/")
    assert not submit_form(get, NoteForm(), called.append).done and called == []


def test_a_form_sent_twice_says_so_and_leads_to_what_the_first_saved():
    request = post({"version": 3, "text": "Rang"})
    first = SimpleNamespace(pk=7)
    submission = submit_form(request, NoteForm(request.POST), raising(AlreadySubmitted(first)))
    assert submission.resent and submission.done and submission.result is first
    assert shown(request) == [AlreadySubmitted.MESSAGE]

    request = post({"version": 3, "text": "Rang"})
    submit_form(
        request,
        NoteForm(request.POST),
        raising(AlreadySubmitted(first)),
        resent_message=lambda created: f"Saved as {created.pk} already",
    )
    assert shown(request) == ["Saved as 7 already"]


def test_a_stale_save_keeps_what_was_typed_and_moves_the_version_on():
    request = post({"version": 3, "text": "My words"})
    form = NoteForm(request.POST)
    submission = submit_form(request, form, raising(StaleVersionError(SimpleNamespace(version=5))))
    assert not submission.done and submission.stale.current.version == 5
    assert form.data["version"] == 5 and form.data["text"] == "My words"
    assert form.non_field_errors() == [StaleVersionError.message_text]


@pytest.mark.parametrize(
    ("refusal", "field", "message"),
    [
        (TooLate("The deadline has passed"), "reason", "The deadline has passed"),
        (DomainError("Not allowed"), None, "Not allowed"),
        (ValidationError("Amount must be positive"), None, "Amount must be positive"),
    ],
)
def test_a_refusal_is_shown_on_the_form_or_on_the_field_named_for_it(refusal, field, message):
    request = post({"version": 3, "text": "My words"})
    form = NoteForm(request.POST)
    submission = submit_form(request, form, raising(refusal), refusal_fields={TooLate: "reason"})
    assert not submission.done and submission.refusal is refusal
    assert form.errors[field or "__all__"] == [message] and form.data["text"] == "My words"
