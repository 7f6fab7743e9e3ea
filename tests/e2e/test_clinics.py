"""Advice clinics in a browser: a referrer books the patient into a clinic slot, with a BSL interpreter, while
referring; the advisor finds the booking on their day and on the referral."""

import pytest
from playwright.sync_api import expect

from referrals.clinics.models import ClinicBooking
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.e2e.conftest import SCREENSHOTS, assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_referrer_books_a_clinic_slot_while_referring_and_the_advisor_sees_it(
    new_page, referrer_user, partnership, advisor_user
):
    session = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, slot_count=3)
    factories.ClinicBookingFactory(session=session, slot=0)

    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/home/")
    page.get_by_role("link", name="Upcoming advice clinics").click()
    expect(page.locator("#clinic-sessions")).to_contain_text("Riverside Surgery, room 4")
    expect(page.locator("#clinic-sessions")).to_contain_text("2 of 3")
    assert_accessible(page)

    page.goto("/referrals/new/")
    page.locator("#id_consent-given_by_0").check()
    page.locator("#id_consent-method_0").check()
    page.locator("#id_consent-share_with_advice_service").check()
    page.locator("#id_patient-given_name").fill("Maria")
    page.locator("#id_patient-family_name").fill("Kowalski")
    page.locator("#id_patient-date_of_birth_day").fill("14")
    page.locator("#id_patient-date_of_birth_month").fill("3")
    page.locator("#id_patient-date_of_birth_year").fill("1958")
    page.locator("#id_patient-phone").fill("07700 900123")
    page.locator("#id_patient-preferred_contact_method_0").check()
    page.locator("#id_referral-categories_0").check()
    page.locator("#id_referral-description").fill("PIP refused after assessment.")
    page.locator("#id_referral-setting").select_option("primary_care")
    slots = page.get_by_label("Book an advice clinic slot")
    assert slots.locator("option").count() == 3  # "No appointment" and the two free slots; slot 1 is taken
    slots.select_option(f"{session.pk}:1")
    page.get_by_label("A British Sign Language (BSL) interpreter").check()
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#clinic-booking-fields").screenshot(path=str(SCREENSHOTS / "referrer-clinic-slot-in-form.png"))
    page.get_by_role("button", name="Submit referral").click()

    expect(page.get_by_role("heading", name="Referral R")).to_be_visible()
    referral = Referral.objects.get(patient__family_name="Kowalski")
    assert referral.status == ReferralStatus.SUBMITTED
    booking = ClinicBooking.objects.get(referral=referral)
    assert (booking.session, booking.slot, booking.interpreter) == (session, 1, "bsl")
    expect(page.locator("#clinic-booking")).to_contain_text("BSL interpreter asked for")
    screenshot(page, "referrer-clinic-booking")

    advisor = new_page()
    sign_in(advisor, advisor_user)
    advisor.goto("/casework/")
    clinic = advisor.locator("#clinic-bookings")
    expect(clinic).to_contain_text("Maria Kowalski")
    expect(clinic).to_contain_text("BSL interpreter")
    assert_accessible(advisor)
    screenshot(advisor, "advisor-today-clinic-bookings")
    clinic.get_by_role("link", name=f"{referral.reference} · Maria Kowalski").click()
    expect(advisor.locator("#clinic-booking")).to_contain_text("Riverside Surgery, room 4")
    advisor.goto(f"/referrals/clinics/{session.pk}/")
    expect(advisor.locator("#clinic-slots")).to_contain_text("Maria Kowalski")
    assert_accessible(advisor)
    assert page.console_errors == [] and advisor.console_errors == []
