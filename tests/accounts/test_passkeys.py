"""Passkeys as a second factor (hjp.accounts.factors.PASSKEY, on django-otp-webauthn): the browser's JSON
ceremonies open only at their stage of signing in, the second step offers a passkey only to those who hold
one, a refused ceremony is audited and changes nothing, and passkeys are removed and reset as other devices
are. The ceremony itself, with a real authenticator, is tested in the browser (tests/e2e/test_passkeys.py)."""

import base64
import json
import secrets
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp_webauthn.models import WebAuthnCredential

from hjp.accounts.factors import mark_session_verified
from hjp.accounts.services import PASSKEY_REFUSED, recovery_codes_generate, user_reset_second_factors
from hjp.audit.models import AuditEvent
from tests import factories
from tests.support.auth import authenticator_for

VERIFY = reverse("accounts:verify")
SECURITY = reverse("accounts:security")
PASSKEY_ADD = reverse("accounts:passkey_add")
REGISTER_BEGIN = reverse("accounts:passkey_register_begin")
REGISTER_COMPLETE = reverse("accounts:passkey_register_complete")
AUTH_BEGIN = reverse("accounts:passkey_auth_begin")
AUTH_COMPLETE = reverse("accounts:passkey_auth_complete")
# The second step: the session, user, the middleware's look for a device (the first kind has
# one), each kind's devices, roles and the menu; the passkey page: the session, user, the middleware's look at
# each kind, roles, whether the user holds a primary device (each primary kind), the menu.
QUERIES_AT_THE_SECOND_STEP = 6
QUERIES_ON_THE_PASSKEY_PAGE = 8
CEREMONIES = [REGISTER_BEGIN, REGISTER_COMPLETE, AUTH_BEGIN, AUTH_COMPLETE]
# What a browser sends back from navigator.credentials: well-formed, but signed by nothing the server knows.
FORGED = {
    "id": "AAAA",
    "rawId": "AAAA",
    "type": "public-key",
    "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA", "attestationObject": "oA"},
    "clientExtensionResults": {},
}


def passkey_for(user, name="Work laptop", *, confirmed=True) -> WebAuthnCredential:
    """A passkey as the browser's ceremony stores it (the key material is never checked by these tests)."""
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        confirmed=confirmed,
        credential_id=secrets.token_bytes(32),
        public_key=secrets.token_bytes(77),
        aaguid="00000000-0000-0000-0000-000000000000",
        transports=["internal"],
    )


def signed_in_with(client, user, device=None):
    """Signed in with the password, and with `device` as the second factor where one is given."""
    client.force_login(user, second_factor=False)
    if device is not None:
        session = client.session
        mark_session_verified(session, device)
        session.save()
    return client


def post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


@pytest.mark.django_db
def test_signed_out_nobody_reaches_a_ceremony(client):
    for url in CEREMONIES:
        response = post_json(client, url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_at_the_second_step_only_the_passkey_sign_in_ceremony_opens(client, advisor_user):
    passkey = passkey_for(advisor_user)
    passkey_for(advisor_user, "Abandoned", confirmed=False)
    signed_in_with(client, advisor_user)
    for url in (REGISTER_BEGIN, REGISTER_COMPLETE, PASSKEY_ADD):
        response = post_json(client, url)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), url
    # Refused before it began: the unfinished one is still there.
    assert WebAuthnCredential.objects.filter(user=advisor_user, confirmed=False, name="Abandoned").exists()

    options = post_json(client, AUTH_BEGIN).json()
    # Only the user's counted passkeys are offered, asking for a fingerprint or PIN where the key has one.
    assert [c["id"] for c in options["allowCredentials"]] == [
        base64.urlsafe_b64encode(bytes(passkey.credential_id)).decode().rstrip("=")
    ]
    assert options["rpId"] == "testserver" and options["userVerification"] == "preferred"


@pytest.mark.django_db
def test_while_setting_up_only_the_making_ceremony_opens(client, advisor_user):
    signed_in_with(client, advisor_user)
    for url in (AUTH_BEGIN, AUTH_COMPLETE):
        response = post_json(client, url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:enrol")), url
    assert client.get(PASSKEY_ADD).status_code == 200
    options = post_json(client, REGISTER_BEGIN).json()
    assert options["rp"] == {"name": "hjp", "id": "testserver"}
    assert options["user"]["name"] == advisor_user.email
    assert options["authenticatorSelection"]["userVerification"] == "preferred"


@pytest.mark.django_db
def test_making_a_passkey_later_asks_for_a_recent_second_factor(client, advisor_user, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(advisor_user)  # with an authenticator app, now
    assert post_json(client, REGISTER_BEGIN).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(minutes=11), tick=False)
    refused = post_json(client, REGISTER_BEGIN)
    assert refused.status_code == 403 and "confirm it is you" in refused.json()["detail"]
    assert client.get(PASSKEY_ADD)["Location"].startswith(VERIFY)


@pytest.mark.django_db
def test_the_second_step_offers_a_passkey_only_to_who_holds_one(client, advisor_user):
    authenticator_for(advisor_user)
    page = signed_in_with(client, advisor_user).get(VERIFY).content.decode()
    assert "Use your passkey" not in page and "otp_webauthn" not in page

    passkey_for(advisor_user, "Work laptop")
    passkey_for(advisor_user, "Blue key")
    passkey_for(advisor_user, "Never named", confirmed=False)
    page = client.get(VERIFY).content.decode()
    assert 'id="passkey-verification-button"' in page and "Your passkeys: Work laptop, Blue key." in page
    assert "Never named" not in page
    # The package's script and hjp's, from this site; the configuration is JSON data, not a script to allow.
    assert '<script type="module" src="/static/django_otp_webauthn/otp_webauthn_auth.js"' in page
    assert f'"beginAuthenticationUrl": "{AUTH_BEGIN}"' in page
    assert "Use your authenticator app" in page  # the other ways stay


@pytest.mark.django_db
def test_a_forged_answer_is_refused_audited_and_leaves_the_second_step_to_pass(client, advisor_user):
    passkey_for(advisor_user)
    signed_in_with(client, advisor_user)
    assert post_json(client, AUTH_BEGIN).status_code == 200
    refused = post_json(client, AUTH_COMPLETE, FORGED)
    assert refused.status_code == 403 and refused.json()["detail"] == PASSKEY_REFUSED
    failure = AuditEvent.objects.get(action=AuditEvent.Action.VERIFY_FAILED)
    assert failure.actor == advisor_user and failure.summary.startswith("Passkey: refused")
    assert client.get(reverse("casework:home"))["Location"].startswith(VERIFY)
    # The challenge was used up: the same answer again is no second try.
    assert post_json(client, AUTH_COMPLETE, FORGED).status_code == 400


@pytest.mark.django_db
def test_a_forged_new_passkey_is_refused_audited_and_stores_nothing(client, advisor_user):
    signed_in_with(client, advisor_user)
    post_json(client, REGISTER_BEGIN)
    refused = post_json(client, REGISTER_COMPLETE, FORGED)
    assert refused.status_code == 422 and "could not be set up" in refused.json()["detail"]
    assert not WebAuthnCredential.objects.filter(user=advisor_user).exists()
    failure = AuditEvent.objects.get(action=AuditEvent.Action.VERIFY_FAILED)
    assert failure.actor == advisor_user and failure.summary.startswith("passkey set-up refused")


@pytest.mark.django_db
def test_naming_the_new_passkey_makes_it_count_and_signs_in(client, advisor_user):
    signed_in_with(client, advisor_user)
    made = passkey_for(advisor_user, "Passkey", confirmed=False)  # as the browser's ceremony left it
    nothing = client.post(PASSKEY_ADD, {"name": "Work laptop", "credential": ""})
    assert "Create the passkey first" in nothing.content.decode()
    others = passkey_for(factories.advisor(), "Someone else's", confirmed=False)
    refused = client.post(PASSKEY_ADD, {"name": "Mine now", "credential": others.pk})
    assert "no longer being set up" in refused.content.decode()

    response = client.post(PASSKEY_ADD, {"name": "Work laptop", "credential": made.pk, "next": "/casework/"})
    assert response["Location"].startswith(reverse("accounts:recovery_codes"))
    made.refresh_from_db()
    others.refresh_from_db()
    assert made.confirmed and made.name == "Work laptop" and not others.confirmed and others.name == "Someone else's"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CREATE, object_id=str(made.pk)).exists()
    assert client.get(reverse("casework:home")).status_code == 200
    page = client.get(SECURITY).content.decode()
    assert "Passkeys" in page and "Work laptop" in page


@pytest.mark.django_db
def test_a_new_passkey_forgets_one_whose_set_up_was_never_finished(client, advisor_user):
    signed_in_with(client, advisor_user)
    passkey_for(advisor_user, "Passkey", confirmed=False)
    assert post_json(client, REGISTER_BEGIN).status_code == 200
    assert not WebAuthnCredential.objects.filter(user=advisor_user).exists()


@pytest.mark.django_db
def test_who_must_use_a_second_factor_cannot_remove_their_last_passkey(client, advisor_user):
    passkey = passkey_for(advisor_user)
    signed_in_with(client, advisor_user, passkey)
    remove = reverse("accounts:device_remove", args=["passkey", passkey.pk])
    assert "You will no longer be able to sign in with Work laptop." in client.get(remove).content.decode()
    assert "This is your last authenticator" in client.post(remove).content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()

    # With an authenticator app besides, it goes, audited; the session it verified is signed out.
    authenticator_for(advisor_user)
    assert client.post(remove)["Location"] == SECURITY
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.DELETE, summary="Passkey removed").exists()
    assert client.get(SECURITY)["Location"] == reverse("login")


@pytest.mark.django_db
def test_a_referrer_who_need_not_may_remove_their_only_passkey(client):
    user = factories.referrer(factories.OrganisationFactory(requires_two_factor_for_referrers=False))
    passkey = passkey_for(user)
    recovery_codes_generate(user=user)
    signed_in_with(client, user, passkey)
    assert client.post(reverse("accounts:device_remove", args=["passkey", passkey.pk]))["Location"] == SECURITY
    assert not WebAuthnCredential.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user)


@pytest.mark.django_db
def test_nobody_removes_anothers_passkey(client, advisor_user):
    other = passkey_for(factories.advisor())
    client.force_login(advisor_user)
    assert client.post(reverse("accounts:device_remove", args=["passkey", other.pk])).status_code == 404
    assert WebAuthnCredential.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_a_reset_removes_passkeys_too(advisor_user, advice_org):
    passkey_for(advisor_user)
    passkey_for(advisor_user, "Half made", confirmed=False)
    authenticator_for(advisor_user)
    supervisor = factories.advisor(advice_org, supervisor=True)
    assert user_reset_second_factors(user=advisor_user, by=supervisor, reason="Lost laptop and phone") == 3
    assert not WebAuthnCredential.objects.filter(user=advisor_user).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("passkeys", [1, 6])
def test_the_security_page_takes_the_same_queries_for_few_and_many_passkeys(
    client, advisor_user, passkeys, django_assert_num_queries
):
    for number in range(passkeys):
        passkey_for(advisor_user, f"Key {number}")
    recovery_codes_generate(user=advisor_user)
    signed_in_with(client, advisor_user, passkey_for(advisor_user, "Laptop"))
    # the session, the user (with its inbox count and devices' ids), roles, each kind's devices, the codes left
    with django_assert_num_queries(7):
        page = client.get(SECURITY).content.decode()
    assert page.count('href="/accounts/security/devices/passkey/') == passkeys + 1
    assert "Set up a passkey" in page


@pytest.mark.django_db
def test_at_an_ip_address_the_passkey_page_says_to_use_localhost(client, advisor_user):
    signed_in_with(client, advisor_user)
    page = client.get(PASSKEY_ADD, HTTP_HOST="127.0.0.1:8000").content.decode()
    assert "Browsers do not offer passkeys at an IP address" in page
    assert 'href="http://localhost:8000/accounts/security/passkey/"' in page
    assert "IP address" not in client.get(PASSKEY_ADD, HTTP_HOST="localhost:8000").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("passkeys", [1, 6])
def test_the_second_step_takes_the_same_queries_for_few_and_many_passkeys(
    client, advisor_user, passkeys, django_assert_num_queries
):
    for number in range(passkeys):
        passkey_for(advisor_user, f"Key {number}")
    signed_in_with(client, advisor_user)
    with django_assert_num_queries(QUERIES_AT_THE_SECOND_STEP):
        page = client.get(VERIFY).content.decode()
    assert page.count("Key ") == passkeys


@pytest.mark.django_db
def test_the_passkey_page_takes_a_fixed_number_of_queries(client, advisor_user, django_assert_num_queries):
    signed_in_with(client, advisor_user)
    with django_assert_num_queries(QUERIES_ON_THE_PASSKEY_PAGE):
        assert client.get(PASSKEY_ADD).status_code == 200
