"""What every signed-in page costs before its own work: three queries, the session; the user, with its inbox count
and its confirmed second-factor devices, which the device that passed the second factor is checked against
(hjp.accounts.backends, hjp.accounts.middleware.OTPMiddleware); and the memberships. No session write and no
transaction on a read-only page (the session's idle timer is pushed on at most once a minute:
tests/accounts/test_sessions.py)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hjp.accounts.models import User
from hjp.core.context_processors import navigation
from hjp.notifications.models import Message, MessageKind
from hjp.notifications.services import message_queue

pytestmark = pytest.mark.django_db

# The queries every signed-in page starts with, by the table each reads; the user's query reads these too.
BEFORE_THE_VIEW = ['"django_session"', '"accounts_user"', '"accounts_membership"']
WITH_THE_USER = ['"notifications_message"', '"otp_totp_totpdevice"', '"otp_static_staticdevice"']
# (table read, how many times) for every signed-in page, whatever it is.
OVERHEAD = {table: 1 for table in BEFORE_THE_VIEW + WITH_THE_USER}

AGGREGATE_PAGES = {"outcomes:dashboard", "outcomes:funder_report"}


def _overhead_of(queries) -> dict[str, int]:
    return {table: sum(q["sql"].count(f"FROM {table}") for q in queries) for table in OVERHEAD}


@pytest.mark.parametrize(
    ("user_fixture", "url_name"),
    [
        ("referrer_user", "referrals:home"),
        ("referrer_user", "referrals:list"),
        ("advisor_user", "casework:home"),
        ("advisor_user", "casework:triage"),
        ("manager_user", "outcomes:dashboard"),
        ("funder_user", "outcomes:funder_report"),
    ],
)
def test_a_signed_in_page_reads_what_every_page_needs_once_and_writes_nothing_but_an_audit_entry(
    request, as_user, user_fixture, url_name
):
    client = as_user(request.getfixturevalue(user_fixture))
    with CaptureQueriesContext(connection) as page:
        assert client.get(reverse(url_name)).status_code == 200
    sql = [q["sql"] for q in page.captured_queries]
    assert _overhead_of(page.captured_queries) == OVERHEAD
    assert [next(t for t in BEFORE_THE_VIEW if f"FROM {t}" in s) for s in sql[:3]] == BEFORE_THE_VIEW
    assert all(f"FROM {table}" in sql[1] for table in WITH_THE_USER)
    writes = [s for s in sql if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == (url_name not in AGGREGATE_PAGES)  # pages of patient data are audited; figures are not
    assert all(s.startswith('INSERT INTO "audit_auditevent"') for s in writes)
    assert not [s for s in sql if s.startswith(("SAVEPOINT", "BEGIN", "COMMIT", "RELEASE"))]


def test_the_navigation_reads_the_memberships_and_the_inbox_count_once_per_request(
    advisor_user, django_assert_num_queries
):
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=advisor_user.pk)  # nothing read yet
    with django_assert_num_queries(2):
        first = navigation(request)
    with django_assert_num_queries(0):
        again = navigation(request)
    assert first == again and first["unread_messages"] == 0 and ("Today", "casework:home") in first["nav_items"]


def _notify(user, referral, keys, capture_on_commit):
    """A status notice in the user's inbox for each key, delivered."""
    with capture_on_commit(execute=True):
        for key in keys:
            message_queue(
                recipient=user,
                kind=MessageKind.STATUS_NOTICE,
                key=key,
                subject="Your referral was accepted",
                body="Accepted.",
                referral_id=referral.pk,
            )


def test_the_signed_in_user_comes_with_its_inbox_count_and_marking_messages_read_forgets_it(
    as_user, referrer_user, referral, django_capture_on_commit_callbacks
):
    _notify(referrer_user, referral, ("first", "second"), django_capture_on_commit_callbacks)
    client = as_user(referrer_user)
    assert client.get(reverse("referrals:home")).context["unread_messages"] == 2
    opened = client.get(reverse("notifications:detail", args=[Message.objects.filter(key="first").get().pk]))
    assert opened.context["unread_messages"] == 1  # the page that marks it read shows the count after
    assert client.post(reverse("notifications:mark_all_read"), follow=True).context["unread_messages"] == 0


def test_the_inbox_count_is_read_up_to_its_cap_and_shown_with_a_plus_beyond_it(
    as_user, referrer_user, referral, django_capture_on_commit_callbacks, monkeypatch
):
    from hjp.notifications import selectors

    monkeypatch.setattr(selectors, "UNREAD_CAP", 2)
    _notify(referrer_user, referral, ("first", "second", "third"), django_capture_on_commit_callbacks)
    client = as_user(referrer_user)
    response = client.get(reverse("referrals:home"))
    html = response.content.decode()
    assert str(response.context["unread_messages"]) == "2+"
    assert '2+<span class="visually-hidden"> unread</span>' in html and "You have 2+ unread messages" in html
    client.get(reverse("notifications:detail", args=[Message.objects.filter(key="first").get().pk]))
    assert client.get(reverse("referrals:home")).context["unread_messages"] == 2  # exact again under the cap
