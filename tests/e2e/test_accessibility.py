"""axe-core on every main page of every role, on the demo data: no serious or critical violation; and every
page fits a phone's width. Screenshots of each page are saved under test-artifacts/screenshots/."""

import io

import pytest
from django.core.management import call_command

from casework.models import Case, EvidenceRequest
from hjp.accounts.demo import DEMO_PASSWORD
from hjp.accounts.models import User
from outcomes.models import FinancialOutcome
from referrals.models import Referral
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, assert_fits_width, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False
    case = Case.objects.filter(state="in_progress").order_by("pk").first()
    evidence = EvidenceRequest.objects.filter(requested_from__email="gp@demo.hjp.test").order_by("pk").first()
    referral = Referral.objects.filter(referrer__email="gp@demo.hjp.test", status="in_progress").order_by("pk").first()
    money = FinancialOutcome.objects.filter(issue__case__state="closed").order_by("pk").first()
    return {
        "referrer": (
            "gp@demo.hjp.test",
            [
                "/referrals/home/",
                "/referrals/new/",
                "/referrals/",
                f"/referrals/{referral.pk}/",
                f"/referrals/{referral.pk}/consent/",
                f"/outcomes/referrals/{referral.pk}/",
                "/inbox/",
                "/casework/evidence/",
            ]
            + ([f"/casework/evidence/{evidence.pk}/"] if evidence else []),
        ),
        "advisor": (
            "advisor@demo.hjp.test",
            [
                "/casework/",
                "/casework/today/deadlines/",  # a "See all" of the advisor's day
                "/casework/triage/",
                "/casework/cases/",
                f"/casework/cases/{case.pk}/",
                f"/outcomes/cases/{case.pk}/",
                "/inbox/",
            ],
        ),
        "supervisor": (
            "supervisor@demo.hjp.test",
            [
                "/casework/cases/?scope=organisation",
                "/casework/providers/",
                # A supervisor corrects the outcomes of a closed case.
                f"/outcomes/cases/{money.issue.case_id}/",
                f"/outcomes/cases/{money.issue.case_id}/financial/{money.pk}/correct/",
            ],
        ),
        "manager": ("manager@demo.hjp.test", ["/outcomes/dashboard/", "/outcomes/funder-report/"]),
        "funder": ("funder@demo.hjp.test", ["/outcomes/funder-report/"]),
        "champion": ("champion@demo.hjp.test", ["/outcomes/engagement/"]),
    }


@pytest.mark.parametrize("role", ["referrer", "advisor", "supervisor", "manager", "funder", "champion"])
def test_every_main_page_of_every_role_is_accessible_and_fits_a_phone(new_page, demo, role):
    email, paths = demo[role]
    user = User.objects.get(email=email)
    for viewport, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page = new_page(viewport)
        sign_in(page, user, password=DEMO_PASSWORD)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, f"{role} {path}: {response.status}"
            if viewport is DESKTOP:
                assert_accessible(page)
            else:
                assert_fits_width(page)
            name = path.strip("/").replace("/", "-").split("?")[0] or "home"
            screenshot(page, f"{role}-{name}{suffix}")
        assert page.console_errors == []


def test_sign_in_and_password_reset_are_accessible(new_page, db):
    page = new_page()
    for path in ("/accounts/login/", "/accounts/password_reset/"):
        page.goto(path)
        assert_accessible(page)
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    assert_accessible(page)
    screenshot(page, "sign-in-errors")
    page.goto("/accounts/password_reset/")
    page.get_by_role("button", name="Send the link").click()
    assert_accessible(page)
    for _ in range(5):
        page.goto("/accounts/login/")
        page.get_by_label("Email address").fill("nobody@example.test")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Too many failed sign-ins").is_visible()
    assert_accessible(page)
    screenshot(page, "sign-in-locked-out")
