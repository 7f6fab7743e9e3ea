"""Failed sign-ins lock out an account (from any address) and an address (against any accounts), counted apart."""

import re
from datetime import UTC, datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from hjp.audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "login"
SPRAYED = "Spring2026!Spring"


def sign_in(client, email, password, address):
    return client.post(reverse(LOGIN), {"username": email, "password": password}, REMOTE_ADDR=address)


def is_signed_in(client):
    return "_auth_user_id" in client.session


def test_one_password_sprayed_across_six_accounts_from_one_address_locks_that_address(client):
    accounts = factories.UserFactory.create_batch(6)
    responses = [sign_in(client, user.email, SPRAYED, "203.0.113.5") for user in accounts]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    # The address is locked, even for an account with no failure and its right password...
    fresh = factories.UserFactory()
    assert sign_in(client, fresh.email, factories.PASSWORD, "203.0.113.5").status_code == 429
    assert not is_signed_in(client)
    # ...while each sprayed account, failed once, still opens from elsewhere.
    assert sign_in(client, accounts[0].email, factories.PASSWORD, "198.51.100.7").status_code == 302
    assert is_signed_in(client)


def test_a_look_alike_spelling_of_an_address_is_no_way_to_a_fresh_count(client, referrer_user):
    """PostgreSQL's upper() folds the long s and the dotless i into S and I; Python's lower() keeps them. Were an
    account found case-insensitively in the database, each such spelling would open it under a lock-out count
    of its own. Addresses are matched exactly once trimmed and lower-cased, so a look-alike opens nothing."""
    referrer_user.email = "sissi.isaacs@example.org"
    referrer_user.save()
    for look_alike in ("ſiſſi.isaacs@example.org", "sıssı.ısaacs@example.org"):
        response = sign_in(client, look_alike, factories.PASSWORD, "203.0.113.9")
        assert response.status_code == 200 and not is_signed_in(client), look_alike
    # The address as written, in any ASCII case and with stray spaces, is the account.
    assert sign_in(client, "  Sissi.ISAACS@example.org ", factories.PASSWORD, "198.51.100.9").status_code == 302
    assert is_signed_in(client)


def test_one_account_failed_from_six_addresses_locks_that_account(client, referrer_user):
    addresses = [f"198.51.100.{n}" for n in range(1, 7)]
    responses = [sign_in(client, referrer_user.email, "wrong password!", address) for address in addresses]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    # The account is locked, from a new address too and with its right password...
    assert sign_in(client, referrer_user.email, factories.PASSWORD, "192.0.2.99").status_code == 429
    assert not is_signed_in(client)
    # ...while the addresses, each with one failure, still sign other people in.
    other = factories.UserFactory()
    assert sign_in(client, other.email, factories.PASSWORD, addresses[0]).status_code == 302


def test_writing_the_address_in_capitals_does_not_start_a_fresh_count(client, referrer_user):
    spellings = [referrer_user.email, referrer_user.email.upper(), f" {referrer_user.email.title()} "]
    for n in range(5):
        sign_in(client, spellings[n % 3], "wrong password!", f"198.51.100.{n + 1}")
    assert sign_in(client, referrer_user.email, factories.PASSWORD, "192.0.2.99").status_code == 429


def test_signing_in_to_ones_own_account_does_not_clear_the_addresss_failures(client):
    """Otherwise a sprayer with an account of their own would wipe the address's count between rounds."""
    sprayer = factories.UserFactory()
    targets = factories.UserFactory.create_batch(5)
    for target in targets[:4]:
        assert sign_in(client, target.email, SPRAYED, "203.0.113.5").status_code == 200
    assert sign_in(client, sprayer.email, factories.PASSWORD, "203.0.113.5").status_code == 302
    client.post(reverse("logout"))
    # The address's 5th failure locks it: the sign-in between cleared nothing of the address's count.
    assert sign_in(client, targets[4].email, SPRAYED, "203.0.113.5").status_code == 429


def test_signing_in_clears_the_accounts_own_failures(client, referrer_user):
    for n in range(4):
        sign_in(client, referrer_user.email, "wrong password!", f"198.51.100.{n + 1}")
    assert sign_in(client, referrer_user.email, factories.PASSWORD, "192.0.2.1").status_code == 302
    assert not AccessAttempt.objects.filter(username=referrer_user.email).exists()
    client.post(reverse("logout"))
    # Four more failures do not lock it: the count started again at the successful sign-in.
    for n in range(4):
        assert sign_in(client, referrer_user.email, "wrong password!", f"198.51.100.{n + 1}").status_code == 200
    assert sign_in(client, referrer_user.email, factories.PASSWORD, "192.0.2.1").status_code == 302


def test_the_lock_out_page_says_what_happened_and_when_to_try_again_and_not_whether_the_account_exists(
    client, referrer_user, time_machine
):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False)
    for n in range(5):
        known = sign_in(client, referrer_user.email, "wrong password!", f"198.51.100.{n + 1}")
        unknown = sign_in(client, "nobody@example.test", "wrong password!", f"192.0.2.{n + 1}")
    page = known.content.decode()
    assert known.status_code == unknown.status_code == 429
    assert "Too many failed sign-ins" in page
    assert "paused for 15 minutes after 5 failed attempts" in page
    assert "Try again after 2 Mar 2026 09:15" in page  # local time (Europe/London is UTC in March)

    def without_tokens(response):
        return re.sub(r'(nonce|value)="[^"]+"', "", response.content.decode())

    assert without_tokens(known) == without_tokens(unknown)
    assert referrer_user.email not in page


def test_behind_one_proxy_the_attempt_and_the_audit_entry_record_the_real_client(client, settings, referral):
    settings.TRUSTED_PROXY_COUNT = 1
    forwarded = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.23"}
    client.post(reverse(LOGIN), {"username": referral.referrer.email, "password": "wrong password!"}, **forwarded)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.23"]
    client.force_login(referral.referrer)
    assert client.get(reverse("referrals:detail", args=[referral.pk]), **forwarded).status_code == 200
    view = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(referral.pk))
    assert view.ip_address == "198.51.100.23"


def test_without_a_trusted_proxy_a_forwarded_for_header_sent_by_the_client_is_ignored(client, referral):
    spoofed = {"REMOTE_ADDR": "192.0.2.44", "HTTP_X_FORWARDED_FOR": "198.51.100.23"}
    client.post(reverse(LOGIN), {"username": referral.referrer.email, "password": "wrong password!"}, **spoofed)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.44"]
    client.force_login(referral.referrer)
    client.get(reverse("referrals:detail", args=[referral.pk]), **spoofed)
    view = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(referral.pk))
    assert view.ip_address == "192.0.2.44"
