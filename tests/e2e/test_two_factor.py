"""Two-step sign-in in Chromium: a new advisor sets up an authenticator app from the QR page (reading the secret
shown as text and computing codes with django-otp's TOTP, as the app would), keeps the recovery codes, then
signs in again with a code, and once with a recovery code."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, pass_second_step, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def type_password(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_a_new_advisor_sets_up_an_authenticator_and_signs_in_with_a_code_and_with_a_recovery_code(new_page):
    advisor = factories.advisor()
    page = new_page()

    # First sign-in: after the password, nothing but setting up the second step.
    type_password(page, advisor)
    expect(page).to_have_url(re.compile(r"/accounts/security/set-up/"))
    expect(page.get_by_role("link", name="Triage", exact=True)).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="Set up an authenticator app").click()

    # The QR code is drawn by the server into the page; the key is there as text for typing in.
    expect(page.get_by_role("img", name="QR code to add hjp to an authenticator app")).to_be_visible()
    assert page.get_by_role("img", name="QR code").get_attribute("src").startswith("data:image/svg+xml")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert_accessible(page)
    screenshot(page, "two-factor-set-up")
    app = TOTP(base64.b32decode(secret))
    app.time = time.time()
    page.get_by_label("Code from the app").fill(f"{app.token():06d}")
    page.get_by_label("Name for this authenticator").fill("Work phone")
    page.get_by_role("button", name="Confirm").click()

    # Recovery codes, shown once.
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [code.strip() for code in page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
    assert_accessible(page)
    page.get_by_role("link", name="I have kept my recovery codes").click()
    expect(page).to_have_url(re.compile(r"/casework/$"))
    expect(page.get_by_role("link", name="Triage", exact=True)).to_be_visible()

    # The manage page shows the authenticator and the codes left.
    page.get_by_role("link", name="Sign-in and security").click()
    expect(page.get_by_role("link", name="Remove Work phone")).to_be_visible()
    expect(page.get_by_text("You have 10 unused recovery codes")).to_be_visible()
    assert_accessible(page)
    sign_out(page)

    # Next sign-in: the password, then a code from the app.
    type_password(page, advisor)
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
    expect(page.get_by_role("heading", name="Second step of signing in")).to_be_visible()
    assert_accessible(page)
    pass_second_step(page, TOTPDevice.objects.get(user=advisor))
    expect(page).to_have_url(re.compile(r"/casework/$"))
    sign_out(page)

    # And once with a recovery code instead.
    type_password(page, advisor)
    page.get_by_text("Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Use recovery code").click()
    expect(page).to_have_url(re.compile(r"/casework/$"))
    expect(page.get_by_text("You used a recovery code: 9 left")).to_be_visible()
    sign_out(page)

    # That recovery code is spent.
    type_password(page, advisor)
    page.get_by_text("Use a recovery code instead").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Use recovery code").click()
    expect(page.get_by_text("That code is not right").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))
