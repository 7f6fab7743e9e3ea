"""Two-step sign-in: who must set it up, the second step after the password, recovery codes, throttling and
the audit of every attempt. Signing in here goes through the pages (password with `second_factor=False`,
then the second step as a person types it)."""

import base64
import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts.models import Role
from hjp.accounts.recovery_codes import stored_form
from hjp.accounts.services import recovery_codes_generate
from hjp.audit.models import AuditEvent
from tests import factories
from tests.support.auth import authenticator_for, totp_code

VERIFY = reverse("accounts:verify")
ENROL = reverse("accounts:enrol")


def password_only(client, user):
    client.force_login(user, second_factor=False)
    return client


def verify_with(client, device, code=None, next_url="/"):
    return client.post(VERIFY, {"totp-kind": "totp", "totp-code": code or totp_code(device), "next": next_url})


def recovery_with(client, code, next_url="/"):
    return client.post(VERIFY, {"recovery-kind": "recovery", "recovery-code": code, "next": next_url})


def staff():
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def must_enrol(request, advice_org, partnership):
    """One user of each kind that must use a second factor."""
    return {
        "advisor": lambda: factories.advisor(advice_org),
        "supervisor": lambda: factories.advisor(advice_org, supervisor=True),
        "manager": lambda: factories.partnership_member(partnership, Role.MANAGER),
        "funder": lambda: factories.partnership_member(partnership, Role.FUNDER),
        "admin": staff,
        "referrer": lambda: factories.referrer(factories.OrganisationFactory()),  # requires it by default
    }[request.param]()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "must_enrol", ["advisor", "supervisor", "manager", "funder", "admin", "referrer"], indirect=True
)
def test_who_must_use_a_second_factor_reaches_only_the_set_up_pages_until_they_have_one(client, must_enrol):
    password_only(client, must_enrol)
    for page in ("/", reverse("notifications:inbox"), reverse("accounts:security"), VERIFY, "/admin/"):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(ENROL), page
    set_up = client.get(ENROL)
    assert set_up.status_code == 200 and "Set up an authenticator app" in set_up.content.decode()
    assert "Inbox" not in set_up.content.decode()  # nothing to navigate to yet
    assert client.get(reverse("accounts:totp_add")).status_code == 200
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_referrer_of_an_organisation_that_does_not_require_it_signs_in_with_the_password(client):
    organisation = factories.OrganisationFactory(requires_two_factor_for_referrers=False)
    user = factories.referrer(organisation)
    password_only(client, user)
    assert client.get("/")["Location"] == reverse("referrals:home")
    assert client.get(reverse("referrals:home")).status_code == 200
    # Once they set one up of their own accord, they pass it at every sign-in like everyone else.
    device = authenticator_for(user)
    client.logout()
    password_only(client, user)
    assert client.get(reverse("referrals:home"))["Location"].startswith(VERIFY)
    assert verify_with(client, device)["Location"] == "/"


@pytest.mark.django_db
def test_a_referrer_in_any_organisation_that_requires_it_must_enrol(client):
    user = factories.referrer(factories.OrganisationFactory(requires_two_factor_for_referrers=False))
    factories.MembershipFactory(user=user, organisation=factories.OrganisationFactory())  # requires it
    password_only(client, user)
    assert client.get("/")["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_enrolment_draws_the_qr_code_here_shows_the_secret_and_confirms_with_a_current_code(
    client, advisor_user, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    password_only(client, advisor_user)
    page = client.get(f"{reverse('accounts:totp_add')}?next=/casework/")
    html = page.content.decode()
    # The QR code is an image drawn by the server, inline: no external service sees the secret.
    assert re.search(r'<img src="data:image/svg\+xml;charset=utf-8,%3Csvg[^"]+" alt="QR code', html)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', html).group(1)
    device = TOTPDevice.objects.get(user=advisor_user)
    assert not device.confirmed and base64.b32decode(secret) == device.bin_key
    assert client.get(reverse("accounts:totp_add")).content.decode().count(secret) == 1  # same one on reload

    wrong = client.post(reverse("accounts:totp_add"), {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/")["Location"].startswith(ENROL)  # still not set up
    time_machine.shift(timedelta(seconds=2))  # the wrong code made the next attempt wait a second

    code = f"{TOTP(base64.b32decode(secret)).token():06d}"  # as the app computes it from the secret it was shown
    done = client.post(f"{reverse('accounts:totp_add')}?next=/casework/", {"code": code, "name": "Work phone"})
    assert done["Location"] == f"{reverse('accounts:recovery_codes')}?next=%2Fcasework%2F"
    device.refresh_from_db()
    assert device.confirmed and device.name == "Work phone"
    assert AuditEvent.objects.filter(actor=advisor_user, action=AuditEvent.Action.CREATE, object_id=str(device.pk))

    codes_page = client.get(done["Location"])
    codes = re.findall(r'<li class="col"><code class="fs-5">([a-z2-7]+)</code>', codes_page.content.decode())
    assert len(codes) == 10
    assert {stored_form(code) for code in codes} == set(
        StaticToken.objects.filter(device__user=advisor_user).values_list("token", flat=True)
    )
    assert 'href="/casework/"' in codes_page.content.decode()
    # Shown once: the page cannot be drawn again.
    again = client.get(reverse("accounts:recovery_codes"))
    assert again["Location"] == reverse("accounts:security")
    assert client.get(reverse("casework:home")).status_code == 200  # signed in with both factors now


@pytest.mark.django_db
def test_the_second_step_comes_after_the_password_and_leads_where_the_user_was_going(client, advisor_user):
    device = authenticator_for(advisor_user)
    password_only(client, advisor_user)
    for page in (reverse("casework:triage"), reverse("notifications:inbox"), reverse("accounts:security")):
        response = client.get(page)
        assert response["Location"] == f"{VERIFY}?next={page.replace('/', '%2F')}"
    page = client.get(VERIFY)
    assert "Code from your authenticator app" in page.content.decode()
    assert "Use a recovery code instead" not in page.content.decode()  # they have none
    before = client.session.session_key
    response = verify_with(client, device, next_url=reverse("casework:triage"))
    assert response["Location"] == reverse("casework:triage")
    assert client.session.session_key != before  # a new session key once the second factor is passed
    assert client.get(reverse("casework:triage")).status_code == 200
    passed = AuditEvent.objects.get(action=AuditEvent.Action.VERIFY)
    assert passed.actor == advisor_user and passed.object_id == str(device.pk) and passed.path == VERIFY


@pytest.mark.django_db
def test_the_second_step_never_sends_anyone_to_another_site(client, advisor_user):
    device = authenticator_for(advisor_user)
    password_only(client, advisor_user)
    assert verify_with(client, device, next_url="https://evil.example/")["Location"] == "/"


@pytest.mark.django_db
def test_a_code_is_accepted_once(client, advisor_user):
    device = authenticator_for(advisor_user)
    code = totp_code(device)
    password_only(client, advisor_user)
    assert verify_with(client, device, code)["Location"] == "/"
    client.logout()
    password_only(client, advisor_user)
    refused = verify_with(client, device, code)
    assert refused.status_code == 200 and "That code is not right" in refused.content.decode()


@pytest.mark.django_db
def test_wrong_codes_are_throttled_and_audited(client, advisor_user, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    device = authenticator_for(advisor_user)
    password_only(client, advisor_user)
    right = totp_code(device)
    wrong = "123456" if right != "123456" else "654321"
    first = verify_with(client, device, wrong)
    assert "That code is not right" in first.content.decode()
    assert 'value="123456"' in first.content.decode() or 'value="654321"' in first.content.decode()  # kept
    # Straight after a wrong code even the right one is refused, for 1, 2, 4, 8 ... seconds (django-otp).
    throttled = verify_with(client, device, right)
    assert "Too many wrong codes. Wait 1 second, then try again." in throttled.content.decode()
    assert client.get("/")["Location"].startswith(VERIFY)
    time_machine.shift(timedelta(seconds=2))
    assert verify_with(client, device)["Location"] == "/"
    failed = AuditEvent.objects.filter(actor=advisor_user, action=AuditEvent.Action.VERIFY_FAILED)
    assert failed.count() == 2 and "Too many wrong codes" in failed.first().summary
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # reset by the code that passed


@pytest.mark.django_db
def test_a_recovery_code_signs_in_once(client, advisor_user):
    authenticator_for(advisor_user)
    codes = recovery_codes_generate(user=advisor_user)
    password_only(client, advisor_user)
    page = client.get(VERIFY).content.decode()
    assert "Use a recovery code instead" in page
    response = recovery_with(client, f" {codes[0].upper()[:4]} {codes[0][4:]} ")  # as people type them
    assert response["Location"] == "/"
    assert client.get("/").status_code == 302 and client.get(reverse("casework:home")).status_code == 200
    assert StaticToken.objects.filter(device__user=advisor_user).count() == 9
    client.logout()
    password_only(client, advisor_user)
    again = recovery_with(client, codes[0])
    assert again.status_code == 200 and "That code is not right" in again.content.decode()
    assert '<details class="mb-4" open>' in again.content.decode()  # the recovery form is open with its error


@pytest.mark.django_db
def test_signed_in_with_a_recovery_code_and_no_authenticator_left_means_setting_one_up(client, advisor_user):
    codes = recovery_codes_generate(user=advisor_user)  # e.g. an admin removed the lost phone in the admin
    password_only(client, advisor_user)
    assert client.get("/")["Location"].startswith(VERIFY)
    recovery_with(client, codes[0])
    assert client.get(reverse("casework:home"))["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_a_user_with_several_authenticators_chooses_one(client, advisor_user):
    first = authenticator_for(advisor_user)
    second = TOTPDevice.objects.create(user=advisor_user, name="Tablet", confirmed=True)
    password_only(client, advisor_user)
    page = client.get(VERIFY).content.decode()
    assert "Which authenticator" in page and "Tablet" in page and first.name in page
    response = client.post(
        VERIFY, {"totp-kind": "totp", "totp-device": second.pk, "totp-code": totp_code(second), "next": "/"}
    )
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_an_empty_code_says_what_to_enter(client, advisor_user):
    authenticator_for(advisor_user)
    password_only(client, advisor_user)
    response = client.post(VERIFY, {"totp-kind": "totp", "totp-code": ""})
    assert "Enter the 6-digit code from your authenticator app" in response.content.decode()
    assert 'href="#id_totp-code"' in response.content.decode()  # the error summary links to the field


@pytest.mark.django_db
def test_a_deleted_device_signs_out_the_sessions_it_verified(client, advisor_user):
    """Not sent on to set up a new factor with the password alone: a lost device often comes with an open session."""
    client.force_login(advisor_user)
    assert client.get(reverse("casework:home")).status_code == 200
    TOTPDevice.objects.filter(user=advisor_user).delete()
    assert client.get(reverse("casework:home"))["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_recovery_codes_are_stored_per_user_in_one_device_and_only_hashed(advisor_user):
    recovery_codes_generate(user=advisor_user)
    new = recovery_codes_generate(user=advisor_user)
    device = StaticDevice.objects.get(user=advisor_user)
    stored = set(device.token_set.values_list("token", flat=True))
    assert stored == {stored_form(code) for code in new}
    assert not stored & set(new)  # someone reading the table learns no code
    assert all(len(token) == 16 for token in stored)


@pytest.mark.django_db
def test_a_recovery_code_made_before_the_secret_key_was_rotated_still_works_once(client, advisor_user, settings):
    authenticator_for(advisor_user)
    codes = recovery_codes_generate(user=advisor_user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-rotated-secret-key-that-is-long-enough-for-django-0123456789"
    password_only(client, advisor_user)
    assert recovery_with(client, codes[1])["Location"] == "/"
    assert StaticToken.objects.filter(device__user=advisor_user).count() == 9


@pytest.mark.django_db
def test_recovery_codes_kept_in_plain_text_are_hashed_by_the_migration(advisor_user):
    """Codes made before hashing keep working once, and the table no longer holds them."""
    device = StaticDevice.objects.create(user=advisor_user, name="Recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    module = importlib.import_module("hjp.accounts.migrations.0005_hash_recovery_codes")
    module.hash_plain_codes(django_apps, None)
    module.hash_plain_codes(django_apps, None)  # a second run leaves hashed codes alone
    assert list(device.token_set.values_list("token", flat=True)) == [stored_form("abcd2345")]
