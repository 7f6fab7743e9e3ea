"""The referrer's side of the advice service's page and survey in a browser: from their home they open the page
about the service (with its advice clinics), and from an outcome report in their inbox they rate the service;
a second answer about the same report is told it has been received already."""

import pytest
from playwright.sync_api import expect

from hjp.notifications import services as notification_services
from hjp.notifications.models import MessageKind
from outcomes.staff_survey.models import StaffSurveyResponse
from referrals.service_page import services as service_page_services
from tests import factories
from tests.e2e.conftest import PHONE, assert_accessible, assert_fits_width, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_referrer_reads_the_service_page_from_home_and_rates_the_service_from_the_inbox(
    new_page, referrer_user, partnership, supervisor_user, advisor_user, health_org
):
    service_page_services.service_page_save(
        partnership=partnership,
        actor=supervisor_user,
        version=None,
        helps_with="Benefits and debt.\nHousing too.",
        eligibility="Adults registered at the practice.",
        how_to_refer="Record consent, then refer in hjp.",
        what_happens_next="We call the patient within five working days.",
        contacts="Duty line: 0161 496 0000",
    )
    factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, place="Riverside Surgery, room 4")
    referral = factories.ReferralFactory(
        referrer=referrer_user, referring_organisation=health_org, partnership=partnership
    )
    report = notification_services.message_queue(  # delivered at commit (tasks run in-process in the tests)
        recipient=referrer_user,
        kind=MessageKind.OUTCOME_REPORT,
        key="e2e-survey",
        subject=f"Outcome of referral {referral.reference}",
        body="The case has closed.",
        referral_id=referral.pk,
    )

    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/home/")
    page.get_by_role("link", name="About the advice service").click()
    expect(page.get_by_role("heading", name=partnership.advice_organisation.name)).to_be_visible()
    expect(page.locator("#service-page")).to_contain_text("Housing too.")
    expect(page.locator("#service-page")).to_contain_text("Duty line: 0161 496 0000")
    expect(page.locator("#service-clinics")).to_contain_text("Riverside Surgery, room 4")
    assert_accessible(page)
    screenshot(page, "referrer-service-page")

    page.goto("/inbox/")
    page.get_by_role("link", name=f"Outcome of referral {referral.reference}").first.click()
    page.get_by_role("link", name="Rate the service").click()
    page.get_by_role("button", name="Send your answer").click()
    expect(page.locator("#error-summary")).to_contain_text("Choose how useful")
    assert_accessible(page)
    page.get_by_label("5: very useful").check()
    page.get_by_label("Yes").check()
    page.get_by_label("Anything else the advice service should know?").fill("Clear and quick, thank you.")
    page.get_by_role("button", name="Send your answer").click()
    expect(page.get_by_text("Thank you: your answer is received.")).to_be_visible()
    expect(page.locator("#follow-up")).to_contain_text("You rated the service after this outcome report")
    answer = StaffSurveyResponse.objects.get(outcome_report_id=report.pk)
    assert (answer.usefulness, answer.would_refer_again, answer.comment) == (5, "yes", "Clear and quick, thank you.")

    page.goto(f"/outcomes/staff-survey/{report.pk}/")
    expect(page.get_by_text("has been received already")).to_be_visible()
    assert not page.console_errors


def test_the_advice_side_edits_the_page_and_reads_the_ratings_on_a_desktop_and_a_phone(
    new_page, supervisor_user, partnership, health_org
):
    referral = factories.ReferralFactory(partnership=partnership, referring_organisation=health_org)
    report = notification_services.message_queue(
        recipient=referral.referrer,
        kind=MessageKind.OUTCOME_REPORT,
        key="e2e-results",
        subject="Outcome",
        body="Closed.",
        referral_id=referral.pk,
    )
    StaffSurveyResponse.objects.create(
        outcome_report=report,
        partnership=partnership,
        referring_organisation=health_org,
        usefulness=4,
        would_refer_again="yes",
        comment="Helpful advisers.",
    )
    page = new_page()
    sign_in(page, supervisor_user)
    page.get_by_role("link", name="Service page").click()
    page.get_by_role("link", name="Write this page").click()
    page.get_by_label("What the service helps with").fill("Benefits.")
    page.get_by_role("button", name="Save the page").click()
    expect(page.locator("#error-summary")).to_contain_text("Enter who can be referred")
    expect(page.get_by_label("What the service helps with")).to_have_value("Benefits.")
    assert_accessible(page)
    page.get_by_label("Who can be referred").fill("Adults.")
    page.get_by_label("How to refer").fill("In hjp.")
    page.get_by_label("Contacts").fill("0161 496 0000")
    page.get_by_role("button", name="Save the page").click()
    expect(page.get_by_text("The service page is saved")).to_be_visible()

    page.get_by_role("link", name="Referrers' ratings").click()
    expect(page.locator("#survey-comments")).to_contain_text("Helpful advisers.")
    expect(page.locator("#survey-organisations")).to_contain_text("fewer than 10")
    assert_accessible(page)
    screenshot(page, "advisor-staff-survey-results")
    phone = new_page(PHONE)
    sign_in(phone, supervisor_user)
    for path in ("/outcomes/staff-survey/", f"/referrals/service/{partnership.pk}/edit/"):
        phone.goto(path)
        assert_fits_width(phone)
    assert not page.console_errors and not phone.console_errors
