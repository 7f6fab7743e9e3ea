"""The referrer in a browser: keyboard-only referral form, the error summary, My referrals, accessibility."""

import pytest
from playwright.sync_api import expect

from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.e2e.conftest import PHONE, assert_accessible, assert_fits_width, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tab_to(page, element_id: str, limit: int = 250) -> None:
    """Press Tab until the element has focus, as a keyboard user would; its focus must be visible."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"no visible focus on #{element_id}"
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def type_into(page, element_id: str, text: str) -> None:
    tab_to(page, element_id)
    page.keyboard.type(text)


def test_a_referrer_completes_the_referral_form_by_keyboard_alone(new_page, referrer_user, partnership):
    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/new/")
    assert_accessible(page)

    # Submitting an empty form: the summary takes focus and links to each field.
    tab_to(page, "id_consent-given_by_0")
    page.get_by_role("button", name="Submit referral").focus()
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    first_link = summary.get_by_role("link").first
    target = first_link.get_attribute("href").lstrip("#")
    first_link.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{target}")).to_be_focused()
    assert_accessible(page)
    screenshot(page, "referrer-form-errors")

    page.goto("/referrals/new/")  # start again from the top of a fresh form
    tab_to(page, "id_consent-given_by_0")
    page.keyboard.press("Space")
    tab_to(page, "id_consent-method_0")
    page.keyboard.press("Space")
    tab_to(page, "id_consent-share_with_advice_service")
    page.keyboard.press("Space")
    tab_to(page, "id_consent-medical_evidence")
    page.keyboard.press("Space")
    tab_to(page, "id_consent-outcome_feedback")
    page.keyboard.press("Space")
    type_into(page, "id_patient-given_name", "Maria")
    type_into(page, "id_patient-family_name", "Kowalski")
    type_into(page, "id_patient-date_of_birth_day", "14")
    type_into(page, "id_patient-date_of_birth_month", "3")
    type_into(page, "id_patient-date_of_birth_year", "1958")
    type_into(page, "id_patient-nhs_number", "943 476 5919")
    type_into(page, "id_patient-address", "12 Mill Lane, Leeds")
    type_into(page, "id_patient-postcode", "LS6 2AB")
    type_into(page, "id_patient-phone", "07700 900123")
    tab_to(page, "id_patient-preferred_contact_method_0")  # Phone
    page.keyboard.press("Space")
    tab_to(page, "id_referral-categories_0")
    page.keyboard.press("Space")
    type_into(page, "id_referral-description", "PIP refused after assessment; needs help to challenge it.")
    tab_to(page, "id_referral-setting")
    page.keyboard.type("Primary")
    page.get_by_role("button", name="Submit referral").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Referral R")).to_be_visible()
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SUBMITTED and referral.patient.nhs_number == "9434765919"
    assert referral.consent.share_with_advice_service and referral.partnership == partnership
    expect(page.locator(".timeline")).to_contain_text("Submitted")
    assert_accessible(page)
    screenshot(page, "referrer-referral-page")

    page.get_by_role("link", name="My referrals").click()
    expect(page.get_by_role("link", name=referral.reference)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "referrer-my-referrals")
    page.get_by_role("link", name="Home", exact=True).click()
    assert_accessible(page)
    screenshot(page, "referrer-home")
    assert page.console_errors == []


def test_referrer_pages_fit_a_phone(new_page, referral):
    page = new_page(PHONE)
    sign_in(page, referral.referrer)
    for path in ("/referrals/home/", "/referrals/", "/referrals/new/", f"/referrals/{referral.pk}/"):
        page.goto(path)
        assert_fits_width(page)
    screenshot(page, "referrer-phone-referral")
    page.goto("/referrals/")
    page.get_by_role("button", name="Show navigation").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="New referral")).to_be_visible()


def test_on_a_phone_what_needs_action_comes_first(new_page, referrer_user, health_org, partnership, advisor_user):
    from referrals import services

    long_words = dict(
        referring_organisation=health_org,
        partnership=partnership,
        referrer=referrer_user,
        patient__given_name="Maximiliana",
        patient__family_name="Featherstonehaugh-Wolstenholme",
        urgency="urgent",
        description="A long account of the problems. " * 60,
        patient__access_needs="Step-free access. " * 20,
    )
    declined = factories.ReferralFactory(**long_words)
    services.referral_transition(
        referral=declined,
        to_status=ReferralStatus.DECLINED,
        actor=advisor_user,
        reason="Outside our area: Leeds Welfare Rights can help.",
    )
    page = new_page(PHONE)
    sign_in(page, referrer_user)

    page.goto("/referrals/")
    state = page.locator("tbody tr").first.locator("td", has_text="Declined")
    box = state.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert_fits_width(page)

    page.goto(f"/referrals/{declined.pk}/")
    reason = page.get_by_text("Outside our area: Leeds Welfare Rights can help.").first
    box = reason.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box
    assert_accessible(page)
    screenshot(page, "referrer-phone-declined")


REPRESENTATIVE_FIELDS = ("#id_consent-representative_name", "#id_consent-representative_authority")


def test_the_representative_questions_appear_only_when_a_representative_consented(new_page, referrer_user, partnership):
    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/new/")
    for selector in REPRESENTATIVE_FIELDS:
        expect(page.locator(selector)).to_be_hidden()

    page.get_by_label("A representative with authority").check()
    for selector in REPRESENTATIVE_FIELDS:
        expect(page.locator(selector)).to_be_visible()
    expect(page.get_by_label("Representative's full name")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("The patient", exact=True).check()
    expect(page.locator(REPRESENTATIVE_FIELDS[0])).to_be_hidden()

    # The expected discharge date is asked only of an inpatient.
    expect(page.locator("#id_referral-expected_discharge_date")).to_be_hidden()
    page.get_by_label("Where are you seeing the patient?").select_option("inpatient")
    expect(page.locator("#id_referral-expected_discharge_date")).to_be_visible()
    assert page.console_errors == []


def test_without_javascript_the_representative_questions_stay_visible(browser, live_server, referrer_user):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    try:
        page = context.new_page()
        sign_in(page, referrer_user)
        page.goto("/referrals/new/")
        for selector in REPRESENTATIVE_FIELDS:
            expect(page.locator(selector)).to_be_visible()
    finally:
        context.close()


def test_a_representative_s_details_are_asked_for_when_they_consented(new_page, referrer_user, partnership):
    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/new/")
    page.get_by_label("A representative with authority").check()
    page.get_by_role("button", name="Submit referral").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the full name of the representative who gave consent")
    # After the failed submit the answer is still "a representative", so their questions still show.
    expect(page.locator(REPRESENTATIVE_FIELDS[0])).to_be_visible()
    summary.get_by_role("link", name="Enter the patient's date of birth").click()
    expect(page.locator("#id_patient-date_of_birth_day")).to_be_focused()


def test_short_answers_get_short_boxes_and_the_form_is_shorter(new_page, referrer_user, partnership):
    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/new/")

    def width(selector):
        return page.locator(selector).bounding_box()["width"]

    assert width("#id_patient-nhs_number") < 300
    assert width("#id_patient-postcode") < 200
    assert width("#id_patient-date_of_birth_day") < 90 and width("#id_patient-date_of_birth_year") < 110
    assert width("#id_patient-phone") < 350
    # The referral form was about 4,000 pixels tall at desktop width.
    screenshot(page, "referral-form-desktop")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 3400, height

    phone = new_page(PHONE)
    sign_in(phone, referrer_user)
    phone.goto("/referrals/new/")
    assert_fits_width(phone)
    assert_accessible(phone)
    screenshot(phone, "referral-form-phone")
    phone.get_by_role("button", name="Submit referral").click()
    expect(phone.locator("#error-summary")).to_be_focused()
    assert_fits_width(phone)
    assert_accessible(phone)


def test_a_search_by_nhs_number_stays_out_of_the_address_bar_and_history(
    new_page, referrer_user, health_org, partnership
):
    """The search form POSTs; the results page's address holds an opaque search id, and back, refresh and a
    second search work as a user expects."""
    wanted = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        patient__nhs_number="9434765919",
    )
    other = factories.ReferralFactory(
        referrer=referrer_user, referring_organisation=health_org, partnership=partnership
    )
    page = new_page()
    sign_in(page, referrer_user)
    page.goto("/referrals/")
    page.get_by_label("Search").fill("943 476 5919")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=wanted.reference)).to_be_visible()
    expect(page.get_by_role("link", name=other.reference)).to_have_count(0)
    assert "search=" in page.url and "943" not in page.url and "5919" not in page.url
    expect(page.get_by_label("Search")).to_have_value("943 476 5919")
    page.reload()
    expect(page.get_by_role("link", name=wanted.reference)).to_be_visible()
    history = page.evaluate("() => [location.href, document.referrer]")
    assert all("943" not in url and "5919" not in url for url in history)
    page.go_back()
    assert page.url.endswith("/referrals/")
    expect(page.get_by_role("link", name=other.reference)).to_be_visible()
    assert_accessible(page)
