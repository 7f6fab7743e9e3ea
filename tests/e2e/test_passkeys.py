"""A passkey in a real browser: Chromium's virtual authenticator (the DevTools WebAuthn domain, through
Playwright's CDP session) stands in for a laptop's fingerprint reader. A new advisor makes a passkey when they
first sign in, then signs in with their password and the passkey; an authenticator without it is refused.

Browsers offer passkeys only at a host name, never at an IP address, so these pages are opened at localhost
(the live server listens on 127.0.0.1, which localhost is)."""

import re

import pytest
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from hjp.accounts.services import recovery_codes_generate
from hjp.audit.models import AuditEvent
from tests import factories
from tests.e2e.conftest import assert_accessible, pass_second_step, screenshot
from tests.support.auth import authenticator_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A laptop's built-in authenticator that checks its user (a fingerprint) and says yes without a prompt.
PLATFORM_AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture
def localhost_pages(new_page):
    """Open a page in a fresh browser context (its own cookies, its own authenticators) at localhost."""
    return lambda: new_page(host="localhost")


def virtual_authenticator(page):
    """Chromium's virtual authenticator for this page: (the CDP session, the authenticator's id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": PLATFORM_AUTHENTICATOR})
    return cdp, added["authenticatorId"]


def type_password(page, user):
    """The first step only: what follows is the test's."""
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_new_advisor_sets_up_a_passkey_and_signs_in_with_it(localhost_pages, advice_org):
    page = localhost_pages()
    advisor = factories.advisor(advice_org)
    cdp, authenticator = virtual_authenticator(page)

    # First sign-in: the password, then setting up a second step, with a passkey.
    type_password(page, advisor)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    page.get_by_role("link", name="Set up a passkey").click()
    expect(page.get_by_role("heading", name="Set up a passkey")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name for this passkey").fill("Work laptop")
    screenshot(page, "passkey set-up")
    page.get_by_role("button", name="Create a passkey").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    page.get_by_role("link", name="I have kept my recovery codes").click()
    expect(page).to_have_url(re.compile(r"/casework/"))

    passkey = WebAuthnCredential.objects.get(user=advisor)
    assert passkey.confirmed and passkey.name == "Work laptop"
    assert AuditEvent.objects.filter(
        actor=advisor, action=AuditEvent.Action.CREATE, object_id=str(passkey.pk), summary="passkey set up"
    ).exists()
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    # Next time: the password, then the passkey, and on to where they were going.
    sign_out(page)
    type_password(page, advisor)
    expect(page.get_by_role("heading", name="Second step of signing in")).to_be_visible()
    expect(page.get_by_text("Your passkey: Work laptop.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(re.compile(r"/casework/"))
    assert AuditEvent.objects.filter(
        actor=advisor, action=AuditEvent.Action.VERIFY, object_id=str(passkey.pk), summary="Passkey: accepted"
    ).exists()

    # The authenticator loses the passkey (a new laptop): refused, with a clear message, still at the second step.
    sign_out(page)
    cdp.send("WebAuthn.removeCredential", {"authenticatorId": authenticator, "credentialId": stored[0]["credentialId"]})
    type_password(page, advisor)
    page.get_by_role("button", name="Use your passkey").click()
    expect(page.get_by_text("No passkey for hjp was used")).to_be_visible()
    screenshot(page, "passkey refused")
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    page.goto("/casework/")
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    assert page.console_errors == []


def test_an_advisor_with_an_authenticator_app_adds_a_passkey_and_a_second_laptop_without_it_is_refused(
    localhost_pages, advice_org
):
    page = localhost_pages()
    advisor = factories.advisor(advice_org)
    app = authenticator_for(advisor)
    recovery_codes_generate(user=advisor)
    virtual_authenticator(page)

    type_password(page, advisor)
    pass_second_step(page, app)
    expect(page).to_have_url(re.compile(r"/casework/"))
    page.goto("/accounts/security/")
    page.get_by_role("link", name="Set up a passkey").click()
    page.get_by_label("Name for this passkey").fill("Desk laptop")
    page.get_by_role("button", name="Create a passkey").click()
    # Recovery codes already kept: straight back, the passkey listed beside the app.
    expect(page.get_by_text("Your passkey is set up.")).to_be_visible()
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    expect(page.get_by_role("link", name="Remove Desk laptop")).to_be_visible()
    sign_out(page)

    # Another laptop (its own authenticator, without the passkey): refused; the app still works.
    elsewhere = localhost_pages()
    virtual_authenticator(elsewhere)
    type_password(elsewhere, advisor)
    expect(elsewhere.get_by_text("Your passkey: Desk laptop.")).to_be_visible()
    elsewhere.get_by_role("button", name="Use your passkey").click()
    expect(elsewhere.get_by_text("No passkey for hjp was used")).to_be_visible()
    pass_second_step(elsewhere, app)
    expect(elsewhere).to_have_url(re.compile(r"/casework/"))
    assert page.console_errors == [] and elsewhere.console_errors == []
