"""The dashboard counts onward referrals made in the period by provider, with what became of each (exact, for the
partnership's managers, like every figure on it), from the running totals kept as handovers are answered."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from casework import services as casework_services
from hjp.accounts.models import Role
from outcomes import running_figures
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.figures import ONWARD_RESULTS, Period
from referrals import services as referral_services
from tests import factories
from tests.outcomes.raw_figures import raw_partnership_summary
from tests.outcomes.test_dashboard import DASHBOARD_QUERIES, PERIOD

pytestmark = pytest.mark.django_db
RESULTS = [result for result, _ in ONWARD_RESULTS]
QUARTER = Period(start=datetime(2026, 1, 1).date(), end=datetime(2026, 3, 31).date())


class World:
    def __init__(self, time_machine):
        self.time_machine = time_machine
        self.partnership = factories.PartnershipFactory(name="Onward HJP")
        advice = self.partnership.advice_organisation
        self.advisor = factories.advisor(advice)
        self.manager = factories.partnership_member(self.partnership, Role.MANAGER)
        self.partner = factories.AdviceOrganisationFactory(name="Partner Law Centre")
        self.partner_advisor = factories.advisor(self.partner)
        self.inside = factories.AdviceProviderFactory(
            advice_organisation=advice, name="Partner Law Centre", partner_organisation=self.partner
        )
        self.outside = factories.AdviceProviderFactory(advice_organisation=advice, name="Outside Law Centre")
        self.named = factories.AdviceProviderFactory(advice_organisation=advice, name="Named Only Centre")

    def move(self, month, day):
        self.time_machine.move_to(datetime(2026, month, day, 12, tzinfo=UTC), tick=False)

    def redirect(self, month, day, provider, *, share=True):
        self.move(month, day)
        referral = factories.ReferralFactory(
            partnership=self.partnership, submitted_at=datetime(2026, month, day, 9, tzinfo=UTC)
        )
        consent = casework_services.ShareConsent(
            given_by="patient", method="phone", said_at=datetime(2026, month, day, 10, tzinfo=UTC)
        )
        return casework_services.referral_redirect(
            referral=referral, actor=self.advisor, provider=provider, note="x", share=consent if share else None
        )


@pytest.fixture
def world(time_machine):
    world = World(time_machine)
    resolved = world.redirect(1, 10, world.inside).handover
    referral_services.handover_decide(handover=resolved, actor=world.partner_advisor, accept=True)
    world.move(2, 1)
    referral_services.handover_close(handover=resolved, actor=world.partner_advisor, outcome="resolved")
    declined = world.redirect(2, 3, world.inside).handover
    referral_services.handover_decide(handover=declined, actor=world.partner_advisor, accept=False, note="Full.")
    world.redirect(3, 3, world.outside)
    world.redirect(3, 20, world.named, share=False)
    world.redirect(4, 2, world.inside)  # after the quarter: not counted in it
    running_figures.refresh_pending()
    return world


def _row(summary, provider):
    row = next(row for row in summary.onward if row.provider == provider)
    return row.made, dict(zip(RESULTS, row.results, strict=True))


def test_onward_referrals_by_provider_and_what_became_of_them(world):
    summary = partnership_summary(partnership=world.partnership, period=QUARTER)
    made, results = _row(summary, "Partner Law Centre")
    assert made == 2 and results["resolved"] == 1 and results["declined"] == 1
    made, results = _row(summary, "Outside Law Centre")
    assert made == 1 and results["sent"] == 1
    made, results = _row(summary, "Named Only Centre")
    assert made == 1 and results["recorded"] == 1
    assert [row.provider for row in summary.onward][0] == "Partner Law Centre"  # the most used first
    assert raw_partnership_summary(partnership=world.partnership, period=QUARTER) == summary


def test_a_later_answer_moves_the_figure(world):
    handover = world.outside.onward_referrals.get().handover
    world.move(4, 5)
    referral_services.handover_close(handover=handover, actor=world.advisor, outcome="advice_given")
    running_figures.refresh_pending()
    summary = partnership_summary(partnership=world.partnership, period=QUARTER)  # counted in the month it was made
    assert _row(summary, "Outside Law Centre")[1] == dict.fromkeys(RESULTS, 0) | {"closed": 1}
    assert raw_partnership_summary(partnership=world.partnership, period=QUARTER) == summary


def test_the_dashboard_shows_them_in_one_more_query_however_many_providers(client, world, django_assert_num_queries):
    client.force_login(world.manager)
    url = reverse("outcomes:dashboard")
    with django_assert_num_queries(DASHBOARD_QUERIES + 1) as few:  # the providers' names
        response = client.get(url, PERIOD)
    html = response.content.decode()
    assert "Onward referrals" in html and "Outside Law Centre" in html and "Closed: problem resolved" in html
    for n in range(5):
        provider = factories.AdviceProviderFactory(advice_organisation=world.partnership.advice_organisation)
        world.redirect(2, 10 + n, provider)
    world.move(4, 2)  # back to when the first page was read (a session a day older would be saved again)
    running_figures.refresh_pending()
    with django_assert_num_queries(DASHBOARD_QUERIES + 1) as many:
        response = client.get(url, PERIOD)
    assert len(response.context["summary"].onward) == 8
    assert len(many.captured_queries) == len(few.captured_queries)
