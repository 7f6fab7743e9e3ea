"""What every signed-in page costs before its own work: the session, the user, the device that passed the second
factor, the memberships and the inbox count, each read once; no session write and no transaction on a read-only
page (the session's idle timer is pushed on at most once a minute: tests/accounts/test_sessions.py)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hjp.accounts.models import User
from hjp.core.context_processors import navigation

pytestmark = pytest.mark.django_db

# (table read, how many times) for every signed-in page, whatever it is.
OVERHEAD = {
    '"django_session"': 1,
    '"accounts_user"': 1,
    '"otp_totp_totpdevice"': 1,
    '"accounts_membership"': 1,
    '"notifications_message"': 1,
}

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
