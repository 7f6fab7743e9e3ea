"""On a phone the case page shows what needs action (deadlines, the next appointment, evidence requests) before
the notes; on a desktop they stand in the right-hand column beside the patient and the notes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from casework import services
from casework.models import Deadline
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, assert_accessible, assert_fits_width, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_case():
    referral = factories.ReferralFactory(submitted_at=timezone.now() - timedelta(days=10))
    advisor = factories.advisor(referral.advice_organisation)
    case = services.referral_accept(referral=referral, actor=advisor)
    now = timezone.now()
    services.case_note_add(
        case=case,
        actor=advisor,
        kind="call",
        text="First call about the PIP decision.",
        occurred_at=now - timedelta(days=6),
        first_contact=True,
    )
    for day in range(5, 0, -1):
        services.case_note_add(
            case=case,
            actor=advisor,
            kind="internal",
            occurred_at=now - timedelta(days=day),
            text=f"Drafted part {6 - day} of the reconsideration request. " * 6,
        )
    services.deadline_add(
        case=case,
        actor=advisor,
        kind=Deadline.Kind.RECONSIDERATION,
        title="",
        basis_date=timezone.localdate() - timedelta(days=12),
    )
    services.appointment_book(
        case=case,
        actor=advisor,
        kind="phone",
        starts_at=now + timedelta(days=2),
        place="Advisor calls the patient's mobile",
    )
    services.evidence_request_create(
        case=case,
        actor=advisor,
        what_is_needed="A letter on daily living needs.",
        due_date=timezone.localdate() + timedelta(days=10),
    )
    return case, advisor


def _top(page, selector) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_on_a_phone_what_needs_action_comes_before_the_notes(new_page, busy_case):
    case, advisor = busy_case
    page = new_page(PHONE)
    sign_in(page, advisor)
    page.goto(f"/casework/cases/{case.pk}/")
    first_note = _top(page, "ol.timeline > li")
    assert _top(page, "#deadlines-h") < first_note
    assert _top(page, "#next-appointment-h") < first_note
    assert _top(page, "#evidence-h") < first_note
    assert page.locator("#next-appointment-h + .card-body").inner_text().count("phone") == 1
    assert_fits_width(page)
    assert_accessible(page)
    screenshot(page, "advisor-case-phone-actions-first")


def test_on_a_desktop_the_actions_stand_beside_the_patient(new_page, busy_case):
    case, advisor = busy_case
    page = new_page(DESKTOP)
    sign_in(page, advisor)
    page.goto(f"/casework/cases/{case.pk}/")
    deadlines = page.locator("#deadlines-h").bounding_box()
    patient = page.locator("#patient-h").bounding_box()
    assert deadlines["x"] > patient["x"] + patient["width"] - 1 and abs(deadlines["y"] - patient["y"]) < 2
    assert_accessible(page)
