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
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

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
