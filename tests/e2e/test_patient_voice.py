"""The patient's own link in Chromium at a cheap phone's width: open it, answer, and find it refused the second
time; every page axe clean and no wider than the screen; the Welsh switch."""

import pytest
from playwright.sync_api import expect

from outcomes import patient_voice
from outcomes.models import ExperienceSurvey, WellbeingScore
from tests import factories
from tests.e2e.conftest import assert_accessible, assert_fits_width, screenshot, sign_in

SMALL_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def link(transactional_db, problem_categories):
    case = factories.CaseFactory(
        referral__patient__given_name="Megan",
        referral__patient__family_name="Pritchard-Voice",
        referral__patient__email="megan@example.org",
    )
    patient_voice.patient_voice_agreement_record(case=case, actor=case.advisor, agreed=True)
    sent = patient_voice.patient_link_send(case=case, actor=case.advisor, moment="close", channel="email")
    return sent, f"/p/{patient_voice.link_token(sent.nonce)}/"


def test_the_patient_answers_once_on_a_phone(new_page, link):
    sent, url = link
    page = new_page(viewport=SMALL_PHONE)
    page.goto(url)
    expect(page.get_by_role("heading", name="Hello Megan")).to_be_visible()
    expect(page.get_by_text("Pritchard-Voice")).to_have_count(0)
    assert_accessible(page)
    assert_fits_width(page)
    screenshot(page, "patient-own-link-phone")

    # Sent with one statement unanswered: told which, with what was chosen kept.
    for number in range(1, 8):
        if number != 3:
            page.get_by_role("group", name=f"{number}.").get_by_label("Often").check()
    page.get_by_role("group", name="Was it easy to get help?").get_by_label("Yes").check()
    page.get_by_role("group", name="Did the help make a difference to you?").get_by_label("Partly").check()
    page.get_by_label("Is there anything else you want to tell us?").fill("The advisor was kind.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose how often you have felt this")
    expect(page.get_by_role("group", name="1.").get_by_label("Often")).to_be_checked()
    expect(page.get_by_label("Is there anything else you want to tell us?")).to_have_value("The advisor was kind.")
    assert_accessible(page)
    assert_fits_width(page)

    page.get_by_role("group", name="3.").get_by_label("Some of the time").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert_accessible(page)

    score = WellbeingScore.objects.get(case=sent.case, moment="close")
    assert score.self_reported and score.total == 4 * 6 + 3
    assert ExperienceSurvey.objects.get(case=sent.case).comments == "The advisor was kind."

    page.goto(url)
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    expect(page.get_by_text("Megan")).to_have_count(0)
    assert_accessible(page)
    assert_fits_width(page)


def test_the_patient_can_switch_to_welsh(new_page, link):
    _, url = link
    page = new_page(viewport=SMALL_PHONE)
    page.goto(url)
    page.get_by_role("link", name="Cymraeg").click()
    expect(page.get_by_role("heading", name="Helo Megan")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "cy"
    expect(page.get_by_role("button", name="Anfon fy atebion")).to_be_visible()
    assert_accessible(page)
    assert_fits_width(page)


def test_the_advisors_page_is_accessible_and_sends_a_link(new_page, link):
    sent, _ = link
    page = new_page(viewport=SMALL_PHONE)
    sign_in(page, sent.case.advisor)
    page.goto(f"/outcomes/cases/{sent.case.pk}/patient-voice/")
    expect(page.get_by_role("heading", name="Links sent")).to_be_visible()
    expect(page.get_by_text("Sending: Sent.")).to_be_visible()
    assert_accessible(page)
    assert_fits_width(page)
    page.get_by_role("group", name="What the link asks").get_by_label("Wellbeing at the start").check()
    page.get_by_role("group", name="Send it by").get_by_label("Email").check()
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_text("The link is on its way to the patient.")).to_be_visible()
    assert sent.case.patient_links.count() == 2
    assert_accessible(page)
