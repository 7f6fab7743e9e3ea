"""Sessions end after 30 idle minutes and, however active, 10 hours after the sign-in: tested on the clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.support.auth import sign_in

pytestmark = pytest.mark.django_db

SIGN_IN = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def sign_in_at(client, time_machine, user, when=SIGN_IN):
    time_machine.move_to(when, tick=False)
    sign_in(client, user, factories.PASSWORD)


def test_an_active_session_lasts_until_ten_hours_after_the_sign_in_and_not_a_second_longer(
    client, referrer_user, time_machine
):
    sign_in_at(client, time_machine, referrer_user)
    page = reverse("referrals:list")
    visits = [timedelta(minutes=m) for m in range(20, 600, 20)] + [timedelta(hours=9, minutes=59)]
    for after in visits:  # a request every 20 minutes, so the idle limit never ends it
        time_machine.move_to(SIGN_IN + after, tick=False)
        assert client.get(page).status_code == 200, after
    time_machine.move_to(SIGN_IN + timedelta(hours=10, seconds=1), tick=False)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={page}"
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"]).content.decode()
    assert "You were signed out because you had been signed in for 10 hours" in login_page
    # Signed out for good: the next request is sent to sign in like any other, without the message.
    again = client.get(page)
    assert again["Location"] == f"{reverse('login')}?next={page}"


def test_signing_in_again_starts_a_new_ten_hours(client, referrer_user, time_machine):
    sign_in_at(client, time_machine, referrer_user)
    # Idle since, so signed out: signing in again an hour before the first sign-in's ten hours are up...
    sign_in_at(client, time_machine, referrer_user, SIGN_IN + timedelta(hours=9))
    for minutes in (20, 40, 60, 80):  # ...the session lasts beyond them
        time_machine.move_to(SIGN_IN + timedelta(hours=9, minutes=minutes), tick=False)
        assert client.get(reverse("referrals:list")).status_code == 200


def test_the_absolute_limit_follows_its_setting(client, referrer_user, time_machine, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 60 * 60
    sign_in_at(client, time_machine, referrer_user)
    for minutes in (20, 40, 59):
        time_machine.move_to(SIGN_IN + timedelta(minutes=minutes), tick=False)
        assert client.get(reverse("referrals:list")).status_code == 200
    time_machine.move_to(SIGN_IN + timedelta(minutes=61), tick=False)
    response = client.get(reverse("referrals:list"), follow=True)
    assert "signed in for 1 hour, the longest" in response.content.decode()


def test_an_idle_session_ends_after_30_minutes_without_a_request(client, referrer_user, time_machine):
    sign_in_at(client, time_machine, referrer_user)
    page = reverse("referrals:list")
    time_machine.move_to(SIGN_IN + timedelta(minutes=29, seconds=59), tick=False)
    assert client.get(page).status_code == 200
    time_machine.move_to(SIGN_IN + timedelta(minutes=29, seconds=59) + timedelta(minutes=30, seconds=1), tick=False)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={page}"
    assert "_auth_user_id" not in client.session


def test_a_session_whose_sign_in_time_is_unknown_is_ended(client, referrer_user):
    """Sessions begun before the limit existed (or altered) carry no sign-in time: they are not trusted."""
    client.force_login(referrer_user)
    session = client.session
    del session["hjp_signed_in_at"]
    session.save()
    response = client.get(reverse("referrals:list"))
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def _session_writes(queries):
    return [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


def test_a_page_within_a_minute_of_the_last_push_writes_nothing_to_the_session(client, referrer_user, time_machine):
    sign_in_at(client, time_machine, referrer_user)
    expiry = _expiry(client)
    time_machine.move_to(SIGN_IN + timedelta(seconds=59), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("referrals:list")).status_code == 200
    assert _session_writes(queries.captured_queries) == []
    assert not [q for q in queries.captured_queries if q["sql"].startswith(("SAVEPOINT", "BEGIN"))]
    assert _expiry(client) == expiry == SIGN_IN + timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_a_page_a_minute_or_more_after_the_last_push_pushes_the_idle_timer_on(client, referrer_user, time_machine):
    sign_in_at(client, time_machine, referrer_user)
    later = SIGN_IN + timedelta(seconds=60)
    time_machine.move_to(later, tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("referrals:list")).status_code == 200
    assert len(_session_writes(queries.captured_queries)) == 1
    assert _expiry(client) == later + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # and the next minute's pages write nothing again
    time_machine.move_to(later + timedelta(seconds=30), tick=False)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("referrals:list"))
    assert _session_writes(queries.captured_queries) == []


def test_a_session_ends_no_later_than_the_idle_limit_after_its_last_request(client, referrer_user, time_machine):
    """A page that did not push the timer on (within the minute) leaves the earlier expiry: the session may end up
    to a minute sooner than 30 minutes after it, never later."""
    sign_in_at(client, time_machine, referrer_user)
    page = reverse("referrals:list")
    time_machine.move_to(SIGN_IN + timedelta(seconds=50), tick=False)
    assert client.get(page).status_code == 200
    time_machine.move_to(SIGN_IN + timedelta(minutes=30, seconds=1), tick=False)
    response = client.get(page)
    assert response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={page}"


def test_a_visitor_without_a_session_is_given_none(client, db):
    client.get(reverse("login"))
    assert not Session.objects.exists()


def test_an_idle_limit_shorter_than_a_minute_still_lets_an_active_session_live(
    client, referrer_user, time_machine, settings
):
    settings.SESSION_COOKIE_AGE = 50  # pushed on whenever 5 seconds (a tenth of it) have passed
    sign_in_at(client, time_machine, referrer_user)
    page = reverse("referrals:list")
    for seconds in range(40, 5 * 60, 40):  # a request every 40 seconds for five minutes
        time_machine.move_to(SIGN_IN + timedelta(seconds=seconds), tick=False)
        assert client.get(page).status_code == 200, seconds
    assert _expiry(client) == SIGN_IN + timedelta(seconds=seconds + 50)
