"""The emails of a batch copy the MIME form Django made of the first (hjp.notifications.mime): each is, byte for
byte, the email Django would have made of it, for the console (email.policy.default) and SMTP alike."""

import email.policy
from datetime import UTC, datetime

import pytest
from django.core.mail import EmailMessage

from hjp.notifications import mime

AT = datetime(2026, 11, 29, 13, 5, 7, tzinfo=UTC)


class _Frozen(datetime):
    @classmethod
    def now(cls, tz=None):
        return AT.astimezone(tz)


@pytest.fixture
def composed(monkeypatch) -> list:
    """Each email Django composes in full (EmailMessage.message)."""
    made, django_message = [], EmailMessage.message

    def message(self, **kwargs):
        made.append(self.to[0])
        return django_message(self, **kwargs)

    monkeypatch.setattr(EmailMessage, "message", message)
    return made


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Both make the Date header of the same moment."""
    import django.core.mail.message

    monkeypatch.setattr(django.core.mail.message, "datetime", _Frozen)
    monkeypatch.setattr(mime, "datetime", _Frozen)


def _email(n: int, *, to: str = "", subject: str = "hjp: you have a new message", body: str = "Sign in:\nhttp://x/\n"):
    return {
        "subject": subject,
        "body": body,
        "from_email": "hjp <no-reply@hjp.localhost>",
        "to": [to or f"person.{n}+tag@example.org"],
        "headers": {"Message-ID": f"<delivery-{n}.hjp@hjp.example.org>"},
    }


LONG_SUBJECT = "hjp: you have a new message " + "about something long " * 6
CASES = {
    "plain": {},
    "8-bit body": {"body": "Bonjour Zoë, sign in:\nhttp://x/\n"},
    "folded subject": {"subject": LONG_SUBJECT},
    "encoded subject": {"subject": "Message pour Zoë"},
}


@pytest.mark.parametrize("policy", [email.policy.default, email.policy.SMTP], ids=["console", "smtp"])
@pytest.mark.parametrize("case", CASES)
def test_each_email_of_a_batch_is_the_one_django_makes(policy, case, composed):
    shared = mime.SharedText()
    ours = [mime.BatchEmail(shared=shared, **_email(n, **CASES[case])).message(policy=policy) for n in range(4)]
    assert composed == ["person.0+tag@example.org"]  # the first only; the others are copies
    for n, message in enumerate(ours):
        django = EmailMessage(**_email(n, **CASES[case])).message(policy=policy)
        assert message.as_bytes(policy=policy) == django.as_bytes(policy=policy)
        assert message.as_bytes() == django.as_bytes()  # as the console and SMTP backends write it
        assert message.as_string() == django.as_string()
    assert shared.template(policy, ("hjp",)) is None  # kept only for what the first email said


@pytest.mark.parametrize(
    "address", ["o'neil@example.org", "zoë@example.org", "a@exämple.org", "Zoe <z@example.org>", "x" * 80 + "@e.org"]
)
def test_an_address_that_is_not_plain_is_composed_by_django_in_full(address, composed):
    shared = mime.SharedText()
    mime.BatchEmail(shared=shared, **_email(0)).message()  # the batch's first makes the template
    kwargs = _email(1, to=address)
    ours = mime.BatchEmail(shared=shared, **kwargs).message()
    assert composed == ["person.0+tag@example.org", address]
    assert ours.as_bytes() == EmailMessage(**kwargs).message().as_bytes()
    assert ours["To"].addresses[0].domain.isascii()  # Django's own treatment (its IDNA encoding) applied


def test_an_email_that_says_something_else_does_not_copy_the_first(composed):
    shared = mime.SharedText()
    mime.BatchEmail(shared=shared, **_email(0)).message()
    other = _email(1, subject="Something else", body="Other words\n")
    ours = mime.BatchEmail(shared=shared, **other).message()
    assert len(composed) == 2
    assert ours.as_bytes() == EmailMessage(**other).message().as_bytes()


def test_copies_share_nothing_they_change():
    shared = mime.SharedText()
    first = mime.BatchEmail(shared=shared, **_email(0)).message()
    second = mime.BatchEmail(shared=shared, **_email(1)).message()
    third = mime.BatchEmail(shared=shared, **_email(2)).message()
    assert [m["To"] for m in (first, second, third)] == [f"person.{n}+tag@example.org" for n in range(3)]
    assert [m["Message-ID"] for m in (second, third)] == [f"<delivery-{n}.hjp@hjp.example.org>" for n in (1, 2)]


def test_a_copy_changed_after_it_was_made_is_written_as_changed():
    shared = mime.SharedText()
    mime.BatchEmail(shared=shared, **_email(0)).message()
    copy = mime.BatchEmail(shared=shared, **_email(1)).message()
    copy.replace_header("Subject", "Changed")
    copy.set_content("Other words\n")
    django = EmailMessage(**_email(1)).message()
    django.replace_header("Subject", "Changed")
    django.set_content("Other words\n")
    assert copy.as_bytes() == django.as_bytes()


def test_what_emails_said_is_kept_for_the_next_batches(composed):
    """A worker keeps the MIME form of what emails said: the next batch saying the same composes none in full."""
    shared = mime.SharedText(size=2)
    other = {"subject": "Something else"}
    for batch in range(3):
        for n in range(2):
            mime.BatchEmail(shared=shared, **_email(10 * batch + n)).message()
            mime.BatchEmail(shared=shared, **_email(10 * batch + n, **other)).message()
    assert composed == ["person.0+tag@example.org", "person.0+tag@example.org"]  # the first of each, once
    mime.BatchEmail(shared=shared, **_email(40, subject="A third")).message()  # forgets the least recently used
    mime.BatchEmail(shared=shared, **_email(41)).message()
    assert composed[2:] == ["person.40+tag@example.org", "person.41+tag@example.org"]
