"""Password reset: the request does the same work for known and unknown addresses and sends nothing itself;
Celery emails the link (valid for an hour, once); requests are limited per address typed and per client."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hjp.accounts.models import PasswordResetRequest
from hjp.accounts.services import (
    PasswordResetNotSent,
    password_reset_request,
    password_reset_requests_purge,
    password_reset_send,
)
from hjp.notifications.rendering import render_message, render_subject
from tests import factories
from tests.support.snapshots import assert_matches_snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LINK = re.compile(r"https?://\S+/accounts/reset/\S+/")


def ask(client, email, address="192.0.2.10"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def without_nonce(response):
    return re.sub(r'nonce="[^"]+"', "", response.content.decode())


def shape(queries):
    """The SQL run, with every literal value taken out."""
    return [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in queries]


def test_the_wording_of_the_email(settings):
    settings.SITE_URL = "https://hjp.example.test"
    link = "https://hjp.example.test/accounts/reset/MQ/cz9x1k-0123456789abcdef0123456789abcdef/"
    text = f"Subject: {render_subject('password_reset')}\n\n{render_message('password_reset', reset_url=link)}"
    assert_matches_snapshot(text, "password_reset")


def test_the_request_sends_nothing_itself_and_the_task_emails_the_link_alone(
    client, referrer_user, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://hjp.example.test"
    with django_capture_on_commit_callbacks() as callbacks:
        response = ask(client, referrer_user.email.upper())
        assert mail.outbox == []  # nothing is sent inside the request: a task is handed over after it commits
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(callbacks) == 1
    callbacks[0]()  # what the worker runs once the request has committed
    [email] = mail.outbox
    assert email.to == [referrer_user.email] and email.subject == "Reset your hjp password"
    link = LINK.search(email.body).group(0)
    assert link.startswith("https://hjp.example.test/accounts/reset/")
    assert email.body == render_message("password_reset", reset_url=link)  # the link, and nothing about the account
    confirm = client.get(link.removeprefix("https://hjp.example.test"), follow=True)
    assert "Choose a new password" in confirm.content.decode()


def test_known_and_unknown_addresses_get_the_same_page_and_the_same_queries_and_only_one_gets_an_email(
    client, referrer_user, django_capture_on_commit_callbacks
):
    with CaptureQueriesContext(connection) as known_queries, django_capture_on_commit_callbacks() as known_callbacks:
        known = ask(client, referrer_user.email)
    with (
        CaptureQueriesContext(connection) as unknown_queries,
        django_capture_on_commit_callbacks() as unknown_callbacks,
    ):
        unknown = ask(client, "nobody@example.test")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert without_nonce(client.get(known["Location"])) == without_nonce(client.get(unknown["Location"]))
    assert shape(known_queries.captured_queries) == shape(unknown_queries.captured_queries)
    assert not any('"accounts_user"' in sql for sql in shape(known_queries.captured_queries))  # never looked up
    assert len(known_callbacks) == len(unknown_callbacks) == 1
    unknown_callbacks[0]()
    assert mail.outbox == []
    known_callbacks[0]()
    assert [email.to for email in mail.outbox] == [[referrer_user.email]]
    assert PasswordResetRequest.objects.filter(handled_at__isnull=False).count() == 2


def test_at_most_three_requests_an_hour_for_one_address_typed_from_anywhere(
    client, referrer_user, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    for n in range(3):
        ask(client, referrer_user.email, f"198.51.100.{n + 1}")
    with django_capture_on_commit_callbacks() as callbacks:
        throttled = ask(client, referrer_user.email, "198.51.100.9")
    assert throttled["Location"] == reverse("password_reset_done")  # the same page as any other request
    assert callbacks == [] and PasswordResetRequest.objects.count() == 3
    time_machine.move_to(NOW + timedelta(minutes=61), tick=False)
    with django_capture_on_commit_callbacks() as callbacks:
        ask(client, referrer_user.email, "198.51.100.9")
    assert len(callbacks) == 1


def test_at_most_ten_requests_an_hour_from_one_client_address(client, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(NOW, tick=False)
    for n in range(10):
        ask(client, f"person{n}@example.test", "203.0.113.5")
    with django_capture_on_commit_callbacks() as callbacks:
        throttled = ask(client, "person10@example.test", "203.0.113.5")
        elsewhere = ask(client, "person11@example.test", "203.0.113.6")
    assert throttled["Location"] == elsewhere["Location"] == reverse("password_reset_done")
    assert len(callbacks) == 1
    assert not PasswordResetRequest.objects.filter(email="person10@example.test").exists()


def test_the_link_works_for_an_hour(client, referrer_user, time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, referrer_user.email)
    path = LINK.search(mail.outbox[0].body).group(0).split("://", 1)[1].split("/", 1)[1]
    time_machine.move_to(NOW + timedelta(minutes=59, seconds=59), tick=False)
    assert "Choose a new password" in client.get(f"/{path}", follow=True).content.decode()
    time_machine.move_to(NOW + timedelta(hours=1, seconds=1), tick=False)
    client.cookies.clear()
    assert "This link has expired or was already used" in client.get(f"/{path}", follow=True).content.decode()


def test_the_link_works_once(client, referrer_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, referrer_user.email)
    path = "/" + LINK.search(mail.outbox[0].body).group(0).split("://", 1)[1].split("/", 1)[1]
    form_url = client.get(path)["Location"]
    new = "quiet violet harbour lantern"
    assert client.post(form_url, {"new_password1": new, "new_password2": new}).status_code == 302
    referrer_user.refresh_from_db()
    assert referrer_user.check_password(new)
    assert "This link has expired or was already used" in client.get(path, follow=True).content.decode()


def test_each_request_is_emailed_once_however_often_its_task_runs(referrer_user):
    reset = password_reset_request(email=referrer_user.email, ip_address="192.0.2.1")
    assert [password_reset_send(request_id=reset.pk) for _ in range(3)] == [True, False, False]
    assert len(mail.outbox) == 1


def test_a_task_that_runs_after_a_link_would_have_expired_sends_nothing(referrer_user, time_machine):
    time_machine.move_to(NOW, tick=False)
    reset = password_reset_request(email=referrer_user.email, ip_address="192.0.2.1")
    time_machine.move_to(NOW + timedelta(minutes=61), tick=False)
    assert password_reset_send(request_id=reset.pk) is False
    assert mail.outbox == []


def test_inactive_accounts_and_accounts_without_a_password_get_no_email(referrer_user):
    referrer_user.is_active = False
    referrer_user.save()
    no_password = factories.UserFactory()
    no_password.set_unusable_password()
    no_password.save()
    for user in (referrer_user, no_password):
        reset = password_reset_request(email=user.email, ip_address="192.0.2.1")
        assert password_reset_send(request_id=reset.pk) is False
    assert mail.outbox == []


def test_when_the_mail_server_refuses_the_retry_sends_it(referrer_user, settings):
    reset = password_reset_request(email=referrer_user.email, ip_address="192.0.2.1")
    locmem = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},  # nothing listens on the discard port
        }
    }
    with pytest.raises(PasswordResetNotSent):
        password_reset_send(request_id=reset.pk)
    reset.refresh_from_db()
    assert reset.handled_at is None
    settings.MAILERS = locmem
    assert password_reset_send(request_id=reset.pk) is True
    assert len(mail.outbox) == 1


def test_requests_are_kept_a_day(referrer_user, time_machine):
    time_machine.move_to(NOW, tick=False)
    password_reset_request(email=referrer_user.email, ip_address="192.0.2.1")
    time_machine.move_to(NOW + timedelta(hours=23), tick=False)
    password_reset_request(email=referrer_user.email, ip_address="192.0.2.1")
    time_machine.move_to(NOW + timedelta(hours=24, minutes=1), tick=False)
    assert password_reset_requests_purge() == 1
    assert PasswordResetRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Enter your email address"), ("not an address", "Enter an email address in the correct format")],
)
def test_a_missing_or_malformed_address_says_what_to_do_and_keeps_what_was_typed(client, typed, message):
    response = ask(client, typed)
    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page and message in page
    assert f'value="{typed}"' in page or typed == ""
    assert PasswordResetRequest.objects.count() == 0
