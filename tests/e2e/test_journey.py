"""The whole loop in a real browser, with a real Celery worker on the real Redis: referral, triage, first
call, medical evidence, outcomes, closing, the referrer's outcome report, the manager's dashboard."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from casework.models import Case, CaseState
from hjp.accounts.models import Role
from hjp.core import appeal_clock
from hjp.notifications.models import Message, MessageKind
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.e2e.conftest import PHONE, assert_accessible, assert_fits_width, screenshot, sign_in
from tests.support.celery_worker import wait_for
from tests.support.documents import pdf_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

PDF = pdf_bytes()


@pytest.fixture
def people(referrer_user, advisor_user, partnership):
    return {
        "referrer": referrer_user,
        "advisor": advisor_user,
        "manager": factories.partnership_member(partnership, Role.MANAGER),
    }


# The patient's PIP decision letter, dated a week before the referral.
LETTER_DATE = timezone.localdate() - timedelta(days=7)


def submit_referral(page, *, family_name="Kowalski", evidence=True, feedback=True) -> Referral:
    page.goto("/referrals/new/")
    page.locator("#id_consent-given_by_0").check()
    page.locator("#id_consent-method_0").check()
    page.locator("#id_consent-share_with_advice_service").check()
    if evidence:
        page.locator("#id_consent-medical_evidence").check()
    if feedback:
        page.locator("#id_consent-outcome_feedback").check()
    page.locator("#id_patient-given_name").fill("Maria")
    page.locator("#id_patient-family_name").fill(family_name)
    page.get_by_label("Day").fill("14")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("1958")
    page.locator("#id_patient-phone").fill("07700 900123")
    page.get_by_role("radio", name="Phone").check()
    page.get_by_role("checkbox", name="Benefits").check()
    page.locator("#id_referral-description").fill("PIP refused after assessment.")
    page.locator("#id_referral-setting").select_option("primary_care")
    page.get_by_label("Key date").fill(LETTER_DATE.isoformat())
    page.get_by_label("What the date is").fill("PIP decision letter")
    page.get_by_label("The date of a benefit decision letter").check()
    page.get_by_role("button", name="Submit referral").click()
    expect(page.get_by_text("sent to")).to_be_visible()
    return Referral.objects.get(patient__family_name=family_name)


def test_the_whole_loop(new_page, people, celery_worker):
    referrer, advisor, manager = new_page(), new_page(), new_page()
    sign_in(referrer, people["referrer"])
    sign_in(advisor, people["advisor"])
    sign_in(manager, people["manager"])

    # The referrer submits a consented referral.
    referral = submit_referral(referrer)

    # The advisor accepts it from the triage queue.
    advisor.goto("/casework/triage/")
    assert_accessible(advisor)
    screenshot(advisor, "advisor-triage")
    advisor.get_by_role("link", name=f"Accept {referral.reference}").click()
    advisor.get_by_role("button", name="Accept and open a case").click()
    case = Case.objects.get(referral=referral)
    expect(advisor).to_have_url(re.compile(rf"/casework/cases/{case.pk}/"))
    # The decision letter's date, given on the referral, is on the case already, on the appeal clock.
    due = appeal_clock.reconsideration_due(LETTER_DATE)
    deadlines = advisor.get_by_role("region", name="Deadlines and tasks")
    expect(deadlines).to_contain_text("Mandatory reconsideration due")
    expect(deadlines).to_contain_text(f"{due:%-d %b %Y}")

    # ... logs the first call ...
    advisor.get_by_role("link", name="Record first contact").click()
    advisor.get_by_label("Note").fill("Spoke to Maria. Will ask for a mandatory reconsideration.")
    first_contact = advisor.get_by_label("This was the first contact with the patient")
    if not first_contact.is_checked():
        first_contact.check()
    advisor.get_by_role("button", name="Save note").click()
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.referral.status == ReferralStatus.IN_PROGRESS

    # ... and asks the referrer for medical evidence.
    advisor.goto(f"/casework/cases/{case.pk}/")
    advisor.get_by_role("link", name="Ask the referrer for evidence").click()
    advisor.get_by_label("What evidence is needed").fill("A letter on how COPD limits walking.")
    advisor.get_by_label("Needed by").fill((timezone.localdate() + timedelta(days=14)).isoformat())
    advisor.get_by_role("button", name="Send request").click()
    assert_accessible(advisor)
    screenshot(advisor, "advisor-case")

    # The referrer hears of the acceptance (through the worker) and answers with a document.
    wait_for(
        lambda: Message.objects.filter(
            referral_id=referral.pk, kind=MessageKind.STATUS_NOTICE, status="delivered"
        ).exists(),
        timeout=20,
        what="the accepted notice",
    )
    referrer.goto("/casework/evidence/")
    assert_accessible(referrer)
    referrer.get_by_role("link", name="Maria Kowalski").click()
    referrer.get_by_label("Your answer").fill("Letter attached.")
    referrer.get_by_label("Document").set_input_files(
        files=[{"name": "copd-letter.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    referrer.get_by_role("button", name="Send").click()
    expect(referrer.get_by_text("Answered").first).to_be_visible()
    assert_accessible(referrer)

    # The advisor sees the document, records outcomes and closes the case.
    advisor.goto(f"/casework/cases/{case.pk}/")
    expect(advisor.get_by_role("link", name="Download the document")).to_be_visible()
    advisor.get_by_role("link", name="Outcomes", exact=True).click()
    assert_accessible(advisor)
    advisor.locator("#id_decision-stage").select_option("mandatory_reconsideration")
    advisor.locator("#id_decision-result").select_option("awarded")
    advisor.get_by_role("button", name="Record decision").click()
    advisor.locator("#id_financial-kind").select_option("new_or_increased_award")
    advisor.locator("#id_financial-benefit").select_option("pip")
    advisor.locator("#id_financial-recurring_amount").fill("108.55")
    advisor.locator("#id_financial-recurring_period").select_option("weekly")
    advisor.locator("#id_financial-one_off_amount").fill("1250")
    advisor.get_by_role("button", name="Record money gained").click()
    expect(advisor.get_by_text("£6,894.60", exact=False)).to_be_visible()
    screenshot(advisor, "advisor-outcomes")
    advisor.locator("#id_close_case-closure_reason").select_option("work_completed")
    advisor.get_by_role("button", name="Close case").click()
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED

    # The referrer finds the outcome report in their inbox.
    wait_for(
        lambda: Message.objects.filter(kind=MessageKind.OUTCOME_REPORT, status="delivered").exists(),
        timeout=20,
        what="the outcome report",
    )
    referrer.goto("/inbox/")
    assert_accessible(referrer)
    referrer.get_by_role("link", name=f"Outcome of referral {referral.reference}").click()
    expect(referrer.get_by_text("Money gained for the patient: £6,894.60", exact=False)).to_be_visible()
    assert_accessible(referrer)
    screenshot(referrer, "referrer-outcome-report")

    # The manager's dashboard counts it, with no patient details.
    manager.goto("/outcomes/dashboard/")
    headline = manager.get_by_role("region", name="Headline figures")
    expect(headline).to_contain_text(re.compile(r"Cases closed\s*1\b"))
    expect(headline).to_contain_text("£6,894.60")
    assert "Kowalski" not in manager.content()
    assert_accessible(manager)
    screenshot(manager, "manager-dashboard")
    for page in (referrer, advisor, manager):
        assert page.console_errors == []


def test_a_decline_is_seen_by_the_referrer(new_page, people, celery_worker):
    referrer, advisor = new_page(), new_page()
    sign_in(referrer, people["referrer"])
    sign_in(advisor, people["advisor"])
    referral = submit_referral(referrer, family_name="Nowak")
    advisor.goto("/casework/triage/")
    advisor.get_by_role("link", name=f"Decline {referral.reference}").click()
    advisor.get_by_label("Reason").select_option("out_of_area")
    advisor.get_by_label("Explanation for the referrer").fill("Please refer to Northside Advice instead.")
    advisor.get_by_role("button", name="Decline").click()
    wait_for(
        lambda: Message.objects.filter(referral_id=referral.pk, status="delivered").exists(),
        timeout=20,
        what="the decline notice",
    )
    referrer.goto(f"/referrals/{referral.pk}/")
    expect(referrer.locator(".timeline")).to_contain_text("Declined")
    expect(referrer.locator(".timeline")).to_contain_text("Northside Advice")
    referrer.goto("/inbox/")
    expect(referrer.get_by_role("link", name=re.compile(f"{referral.reference} declined"))).to_be_visible()
    celery_worker.wait_idle()  # every task the worker was handed has finished: a duplicate would be here now
    assert Message.objects.filter(referral_id=referral.pk).count() == 1
    expect(referrer.get_by_role("link", name=re.compile(f"{referral.reference} declined"))).to_have_count(1)


def test_a_consent_withdrawal_stops_the_case_and_redacts_the_patient(new_page, people, celery_worker):
    referrer, advisor = new_page(), new_page(PHONE)
    sign_in(referrer, people["referrer"])
    sign_in(advisor, people["advisor"])
    referral = submit_referral(referrer, family_name="Shevchenko")
    advisor.goto("/casework/triage/")
    advisor.get_by_role("link", name=f"Accept {referral.reference}").click()
    advisor.get_by_role("button", name="Accept and open a case").click()
    case = Case.objects.get(referral=referral)
    screenshot(advisor, "advisor-case-phone")

    referrer.goto(f"/referrals/{referral.pk}/")
    referrer.get_by_role("link", name="Record consent withdrawal").click()
    referrer.get_by_label("I understand").check()
    referrer.get_by_role("button", name="Record withdrawal of consent").click()
    expect(referrer.get_by_text("Details removed (consent withdrawn on")).to_be_visible()
    assert "Shevchenko" not in referrer.content()

    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closure_reason == "consent_withdrawn"
    advisor.goto(f"/casework/cases/{case.pk}/")
    assert "Shevchenko" not in advisor.content()
    assert_fits_width(advisor)
