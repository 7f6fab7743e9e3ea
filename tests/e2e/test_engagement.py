"""A practice champion opens the engagement view in Chromium: their organisation's teams and figures, the latest
outcomes of colleagues' referrals without the patients' names, and one outcome."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from outcomes import running_figures
from referrals.models import ReferralStatus
from tests import factories
from tests.e2e.conftest import PHONE, assert_accessible, assert_fits_width, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_champion_opens_the_engagement_view(new_page):
    practice = factories.OrganisationFactory(name="Hillview Medical Centre", list_size=4000)
    partnership = factories.PartnershipFactory(health_organisations=[practice])
    nurses = factories.TeamFactory(organisation=practice, name="Practice nurses")
    factories.TeamFactory(organisation=practice, name="Care navigators")
    colleague = factories.referrer(practice, team=nurses)
    champion = factories.referrer(practice, is_champion=True)
    referrals = [
        factories.ReferralFactory(
            referring_organisation=practice,
            referring_team=nurses,
            referrer=colleague,
            partnership=partnership,
            submitted_at=timezone.now() - timedelta(days=2 + i),
            patient__given_name="Winifred",
            patient__family_name=f"Ashdown{i}",
        )
        for i in range(4)
    ]
    closed = referrals[0]
    closed.status = ReferralStatus.CLOSED
    closed.save()
    factories.CaseFactory(referral=closed, state="closed", closed_at=timezone.now(), closure_reason="work_completed")
    running_figures.refresh_pending()

    page = new_page()
    sign_in(page, champion)
    page.get_by_role("link", name="Engagement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Engagement: Hillview Medical Centre")
    expect(page.get_by_text("4 referrals in the twelve months; 25% with an outcome; 1.0 per 1,000")).to_be_visible()
    expect(page.locator(".inactive-teams")).to_have_text("Care navigators: never referred")
    table = page.get_by_role("table", name="Referrals per month by team, Hillview Medical Centre")
    expect(table.get_by_role("row", name="Practice nurses")).to_contain_text("1 (25%)")
    assert "Winifred" not in page.content()
    assert_accessible(page)
    screenshot(page, "champion-engagement")

    page.get_by_role("link", name=closed.reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"What the advice achieved: referral {closed.reference} (Practice nurses)"
    )
    assert "Winifred" not in page.content() and "W.A." not in page.content()
    assert_accessible(page)

    phone = new_page(viewport=PHONE)
    sign_in(phone, champion)
    phone.goto("/outcomes/engagement/")
    assert_fits_width(phone)
