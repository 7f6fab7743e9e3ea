"""A handover between two advice services in a browser: advisor A redirects a referral to partner B with the
patient's consent to share, B's advisor accepts it from the top of B's triage and closes it with an outcome, and
advisor A and the referrer both read the answer and the outcome on the referral's timeline."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PARTNER = "Northside Law Centre"


def test_a_referral_handed_over_to_a_partner_is_accepted_and_closed_and_both_sides_read_it(
    new_page, referral, referrer_user, advisor_user, advice_org
):
    partner_org = factories.AdviceOrganisationFactory(name=PARTNER)
    partner_advisor = factories.advisor(partner_org)
    factories.AdviceProviderFactory(advice_organisation=advice_org, name=PARTNER, partner_organisation=partner_org)

    # Advisor A passes the referral on from triage, recording the patient's consent to share it with B.
    advisor = new_page()
    sign_in(advisor, advisor_user)
    advisor.goto("/casework/triage/")
    advisor.get_by_role("link", name=f"Redirect {referral.reference}").click()
    advisor.get_by_label("Pass to").select_option(label=PARTNER)
    advisor.get_by_label("Note for the referrer").fill("Northside's housing team takes possession cases.")
    advisor.get_by_label("The patient agreed to share this referral with the provider").check()
    advisor.get_by_label(re.compile(r"^How")).select_option(label="By phone")
    advisor.get_by_role("button", name="Redirect").click()
    expect(advisor.get_by_text(f"Referral {referral.reference} passed on.")).to_be_visible()

    # B's advisor finds it at the top of B's triage, accepts it, and later records the outcome.
    partner = new_page()
    sign_in(partner, partner_advisor)
    partner.goto("/casework/triage/")
    handed_over = partner.get_by_role("region", name="Handed over to you by other advice services")
    expect(handed_over).to_contain_text(referral.patient.full_name)
    assert_accessible(partner)
    handed_over.get_by_role("link", name=referral.reference).click()
    expect(partner.get_by_text("The patient, by phone")).to_be_visible()  # the consent to share, recorded
    partner.get_by_role("link", name="Accept", exact=True).click()
    partner.get_by_label("Note for the service and the referrer").fill("We will call her this week.")
    partner.get_by_role("button", name="Accept", exact=True).click()
    expect(partner.get_by_role("status")).to_contain_text("Answer recorded")
    partner.get_by_role("link", name="Record the outcome").click()
    partner.get_by_label("What became of it").select_option(label="Helped: problem resolved")
    partner.get_by_label(re.compile(r"^Note")).fill("Possession claim struck out.")
    partner.get_by_role("button", name="Close with this outcome").click()
    expect(partner.get_by_role("status")).to_contain_text("Outcome recorded: the service that handed it over is told")
    expect(partner.locator("dl.facts")).to_contain_text("Closed: outcome recorded")

    # Advisor A and the referrer read both, on the same timeline of the referral.
    for page, user in ((advisor, advisor_user), (new_page(), referrer_user)):
        if user is referrer_user:
            sign_in(page, user)
        page.goto(f"/referrals/{referral.pk}/")
        for text in (
            f"Accepted by {PARTNER}",
            "We will call her this week.",
            f"Closed by {PARTNER}",
            "Outcome: Helped: problem resolved",
            "Possession claim struck out.",
        ):
            expect(page.get_by_text(text, exact=False).first).to_be_visible()
        if user is referrer_user:
            screenshot(page, "referrer-handover-timeline")
        page.goto("/inbox/")
        expect(
            page.get_by_role("link", name=re.compile(f"Referral {referral.reference} closed by {PARTNER}"))
        ).to_be_visible()
