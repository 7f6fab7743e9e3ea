"""The engagement of referring organisations and teams (issue 14): the figures on a generated history, the teams
that have not referred for 90 days, who may read which organisation's (leads, practice champions, nobody else),
what a champion sees of their colleagues' referrals, and the page's pinned queries."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hjp.accounts.models import Membership, Role
from hjp.audit.models import AuditEvent
from outcomes import running_figures, services
from outcomes.selectors.engagement import engagement
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.support.auth import Client

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 6, 15, 12, tzinfo=UTC)
URL = reverse("outcomes:engagement")


def _at(year, month, day=10):
    return datetime(year, month, day, 11, tzinfo=UTC)


class History:
    """Riverside Surgery (5,000 registered) in the partnership with Hill Practice, and in a second partnership.
    Its teams: Ward A referred in January and twice in June, Ward B three times in February (one case closed),
    Ward C never; one referral in May with no team (its case closed); before the twelve months, a draft, and one
    sent in error, which count nowhere; Ward A once in March through the other partnership."""

    def __init__(self):
        self.org = factories.OrganisationFactory(name="Riverside Surgery", list_size=5000)
        self.hill = factories.OrganisationFactory(name="Hill Practice")
        self.partnership = factories.PartnershipFactory(health_organisations=[self.org, self.hill])
        self.other_partnership = factories.PartnershipFactory(health_organisations=[self.org])
        self.ward_a = factories.TeamFactory(organisation=self.org, name="Ward A")
        self.ward_b = factories.TeamFactory(organisation=self.org, name="Ward B")
        self.ward_c = factories.TeamFactory(organisation=self.org, name="Ward C")
        self.author = factories.referrer(self.org)
        self.colleague = factories.referrer(self.org)
        self.champion = factories.referrer(self.org, is_champion=True)
        for when in (_at(2026, 1), _at(2026, 6, 1), _at(2026, 6, 2)):
            self.refer(self.ward_a, when)
        for day in (3, 4, 5):
            referral = self.refer(self.ward_b, _at(2026, 2, day))
        self.closed_b = self.close(referral)
        self.no_team = self.close(self.refer(None, _at(2026, 5)))
        self.refer(self.ward_a, _at(2025, 6))  # thirteen months back: outside the year
        self.refer(self.ward_a, _at(2026, 6, 3), status=ReferralStatus.ENTERED_IN_ERROR)
        self.refer(self.ward_a, None, status=ReferralStatus.DRAFT)
        self.refer(self.ward_a, _at(2026, 3), partnership=self.other_partnership)
        factories.ReferralFactory(
            referring_organisation=self.hill, partnership=self.partnership, submitted_at=_at(2026, 4)
        )
        running_figures.refresh_pending()

    def refer(self, team, when, *, status=ReferralStatus.SUBMITTED, partnership=None):
        return factories.ReferralFactory(
            referring_organisation=self.org,
            referring_team=team,
            referrer=self.colleague,
            partnership=partnership or self.partnership,
            submitted_at=when,
            status=status,
        )

    def close(self, referral):
        referral.status = ReferralStatus.CLOSED
        referral.save()
        patient = referral.patient
        patient.given_name, patient.family_name = "Winifred", "Ashdown"
        patient.save()
        factories.CaseFactory(
            referral=referral, state="closed", closed_at=_at(2026, 6, 5), closure_reason="work_completed"
        )
        return referral


@pytest.fixture
def history(time_machine):
    time_machine.move_to(TODAY)
    return History()


def _rows(figures):
    return {
        org.organisation.name: {row.name: (row.by_month, row.closed) for row in org.teams}
        for org in figures.organisations
    }


def _months(**given):
    """Twelve months July 2025 to June 2026, the counts given by month name (jan=1 ...)."""
    order = ["jul", "aug", "sep", "oct", "nov", "dec", "jan", "feb", "mar", "apr", "may", "jun"]
    return [given.get(month, 0) for month in order]


def test_a_leads_figures_for_the_partnership_per_team_and_month(history):
    figures = engagement(
        organisations=[history.org, history.hill], partnership_id=history.partnership.pk, today=TODAY.date()
    )
    assert figures.months[0].isoformat() == "2025-07-01" and figures.months[-1].isoformat() == "2026-06-01"
    assert _rows(figures) == {
        "Riverside Surgery": {
            "Ward A": (_months(jan=1, jun=2), 0),
            "Ward B": (_months(feb=3), 1),
            "Ward C": (_months(), 0),
            "No team recorded": (_months(may=1), 1),
        },
        "Hill Practice": {"No team recorded": (_months(apr=1), 0)},
    }
    riverside, hill = figures.organisations
    assert (riverside.total.made, riverside.total.closed, riverside.total.outcome_share) == (7, 2, 29)
    assert riverside.per_thousand == Decimal("1.4")  # 7 referrals for 5,000 registered patients
    assert hill.per_thousand is None  # no list size recorded
    assert [row.outcome_share for row in riverside.teams] == [0, 33, None, 100]


def test_a_champion_sees_their_organisation_across_its_partnerships(history):
    figures = engagement(organisations=[history.org], today=TODAY.date())
    assert _rows(figures)["Riverside Surgery"]["Ward A"] == (_months(jan=1, mar=1, jun=2), 0)
    assert figures.organisations[0].total.made == 8
    assert figures.organisations[0].per_thousand == Decimal("1.6")


def test_the_figures_kept_as_running_totals_equal_those_rebuilt_from_the_referrals(history):
    before = _rows(engagement(organisations=[history.org], today=TODAY.date()))
    services.figures_rebuild()
    assert _rows(engagement(organisations=[history.org], today=TODAY.date())) == before
    # A case closing later moves its referral's month, not the month it closed in.
    history.close(Referral.objects.get(referring_team=history.ward_a, submitted_at=_at(2026, 1)))
    running_figures.refresh_pending()
    assert _rows(engagement(organisations=[history.org], today=TODAY.date()))["Riverside Surgery"]["Ward A"] == (
        _months(jan=1, mar=1, jun=2),
        1,
    )


def test_teams_that_have_not_referred_for_ninety_days(history, time_machine):
    def inactive():
        figures = engagement(organisations=[history.org], today=timezone.localdate())
        return [(row.name, row.last_referral) for row in figures.organisations[0].inactive_teams]

    # 15 June: Ward A referred on 2 June (the one sent in error on 3 June does not count); Ward B last on
    # 5 February; Ward C never.
    assert inactive() == [("Ward B", _at(2026, 2, 5)), ("Ward C", None)]
    time_machine.move_to(datetime(2026, 5, 5, 12, tzinfo=UTC))  # 89 days after 5 February
    assert [name for name, _ in inactive()] == ["Ward C"]
    time_machine.move_to(datetime(2026, 9, 1, 12, tzinfo=UTC))  # 91 days after 2 June
    assert [name for name, _ in inactive()] == ["Ward A", "Ward B", "Ward C"]


def test_a_leads_last_referral_of_a_team_counts_only_the_partnership_in_view(history, time_machine):
    """Ward C refers once, through the other partnership: the other partnership's lead sees that date; this
    partnership's lead still sees Ward C as never having referred here, among the teams to chase."""
    history.refer(history.ward_c, _at(2026, 6, 14), partnership=history.other_partnership)

    def last_referrals(partnership):
        figures = engagement(organisations=[history.org], partnership_id=partnership.pk, today=timezone.localdate())
        organisation = figures.organisations[0]
        return {row.name: row.last_referral for row in organisation.teams}, [
            t.name for t in organisation.inactive_teams
        ]

    here, inactive_here = last_referrals(history.partnership)
    assert here["Ward C"] is None and "Ward C" in inactive_here
    there, inactive_there = last_referrals(history.other_partnership)
    assert there["Ward C"] == _at(2026, 6, 14) and "Ward C" not in inactive_there


# --- who may read which engagement ----------------------------------------------------------------------------


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_engagement_view_by_role(history):
    other_org = factories.OrganisationFactory(name="Elsewhere")
    other_partnership = factories.PartnershipFactory(health_organisations=[other_org])
    supervisor = factories.advisor(history.partnership.advice_organisation, supervisor=True)
    users = {
        "manager": factories.partnership_member(history.partnership, Role.MANAGER),
        "supervisor": supervisor,
        "champion": history.champion,
        "referrer, not champion": history.colleague,
        "champion of another organisation": factories.referrer(other_org, is_champion=True),
        "funder": factories.partnership_member(history.partnership, Role.FUNDER),
        "advisor of the partnership": factories.advisor(history.partnership.advice_organisation),
        "supervisor of another partnership": factories.advisor(other_partnership.advice_organisation, supervisor=True),
        "manager of another partnership": factories.partnership_member(other_partnership, Role.MANAGER),
        "advisor of another partnership": factories.advisor(other_partnership.advice_organisation),
    }
    asks = {
        "default": {},
        "this partnership": {"partnership": history.partnership.pk},
        "this organisation": {"organisation": history.org.pk},
        "nonsense": {"organisation": "x"},
    }
    seen = {
        (who, ask): _client(user).get(URL, query).status_code
        for who, user in users.items()
        for ask, query in asks.items()
    }
    leads = {"default": 200, "this partnership": 200, "this organisation": 404, "nonsense": 404}
    champion = {"default": 200, "this partnership": 404, "this organisation": 200, "nonsense": 404}
    other_lead = {"default": 200, "this partnership": 404, "this organisation": 404, "nonsense": 404}
    nobody = dict.fromkeys(asks, 404)
    expected = {
        "manager": leads,
        "supervisor": leads,
        "champion": champion,
        "referrer, not champion": nobody,
        "champion of another organisation": other_lead,
        "funder": nobody,
        "advisor of the partnership": nobody,
        "supervisor of another partnership": other_lead,
        "manager of another partnership": other_lead,
        "advisor of another partnership": nobody,
    }
    assert seen == {(who, ask): status for who, by_ask in expected.items() for ask, status in by_ask.items()}
    assert _client(factories.UserFactory()).get(URL).status_code == 404
    assert Client().get(URL).status_code == 302  # to sign in


def test_the_lead_reads_the_teams_and_no_patient(history):
    manager = factories.partnership_member(history.partnership, Role.MANAGER)
    page = _client(manager).get(URL).content.decode()
    assert "Engagement: " + history.partnership.name in page
    assert "1.4 per 1,000 registered patients (5,000 registered)" in page
    assert "Ward B: last referral 5 Feb 2026" in page and "Ward C: never referred" in page
    assert "Winifred" not in page and "Ashdown" not in page
    assert history.closed_b.reference not in page  # a lead's view lists no referral


# --- what a champion sees of their colleagues' referrals --------------------------------------------------------


def test_a_champion_reads_the_outcomes_of_colleagues_referrals_without_the_patient(history):
    client = _client(history.champion)
    page = client.get(URL, {"organisation": history.org.pk}).content.decode()
    assert history.closed_b.reference in page and history.no_team.reference in page
    assert "Winifred" not in page and "Ashdown" not in page
    # Each referral the page lists has the page in its "who has looked".
    looked = AuditEvent.objects.filter(actor=history.champion, action=AuditEvent.Action.VIEW)
    assert {history.closed_b.pk, history.no_team.pk} <= set(looked.values_list("referral_ref", flat=True))
    outcome = client.get(reverse("outcomes:referral_outcome", args=[history.closed_b.pk]))
    assert outcome.status_code == 200
    text = outcome.content.decode()
    assert "What the advice achieved: referral " + history.closed_b.reference + " (Ward B)" in text
    assert "W.A." not in text and "Winifred" not in text
    assert "Money gained for the patient" in text  # the patient agreed to outcome feedback
    # The referral itself, with the patient's details, stays the author's side's.
    assert client.get(reverse("referrals:detail", args=[history.closed_b.pk])).status_code == 404
    assert history.closed_b not in Referral.objects.visible_to(history.champion)
    assert history.closed_b in Referral.objects.outcomes_visible_to(history.champion)


def test_with_shared_visibility_the_champion_sees_the_patient_as_any_colleague(history):
    history.org.shares_referrals_internally = True
    history.org.save()
    client = _client(history.champion)
    text = client.get(reverse("outcomes:referral_outcome", args=[history.closed_b.pk])).content.decode()
    assert "(W.A.)" in text
    assert client.get(reverse("referrals:detail", args=[history.closed_b.pk])).status_code == 200


def test_after_consent_is_withdrawn_the_champion_reads_no_outcome(history):
    from referrals.services import consent_withdraw

    consent_withdraw(referral=history.closed_b, actor=history.colleague)
    text = (
        _client(history.champion).get(reverse("outcomes:referral_outcome", args=[history.closed_b.pk])).content.decode()
    )
    assert "The patient has not agreed to share the outcome with you." in text
    assert "Money gained for the patient" not in text


def test_no_champion_of_another_organisation_nor_plain_colleague_reads_the_outcome(history):
    other_champion = factories.referrer(factories.OrganisationFactory(), is_champion=True)
    outcome_url = reverse("outcomes:referral_outcome", args=[history.closed_b.pk])
    assert _client(other_champion).get(outcome_url).status_code == 404
    assert _client(history.author).get(outcome_url).status_code == 404  # a colleague, no shared visibility
    assert _client(history.colleague).get(outcome_url).status_code == 200  # who made it


def test_a_champion_is_a_referrer_and_a_list_size_is_a_health_organisations(history):
    manager = Membership.objects.get(user=factories.partnership_member(history.partnership, Role.MANAGER))
    manager.is_champion = True
    with pytest.raises(ValidationError, match="Only a referrer can be a practice champion"):
        manager.full_clean()
    advice = history.partnership.advice_organisation
    advice.list_size = 3000
    with pytest.raises(ValidationError, match="Only a health organisation has registered patients"):
        advice.full_clean()
    history.org.list_size = 0
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        history.org.full_clean()


def test_the_admin_grants_the_champion_role_and_records_the_list_size(history):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client = _client(admin)
    membership = Membership.objects.get(user=history.author)
    page = client.get(reverse("admin:accounts_membership_change", args=[membership.pk]))
    assert b'name="is_champion"' in page.content
    change = reverse("admin:accounts_organisation_change", args=[history.hill.pk])
    form = client.get(change).content.decode()
    assert 'name="list_size"' in form
    fields = {
        "name": "Hill Practice",
        "kind": "health",
        "ods_code": "",
        "requires_two_factor_for_referrers": "on",
        "teams-TOTAL_FORMS": "0",
        "teams-INITIAL_FORMS": "0",
    }
    for typed in ("0", "-4", "600000", "lots"):
        response = client.post(change, fields | {"list_size": typed})
        assert response.status_code == 200  # the form again, with the message and what was typed
        page = response.content.decode()
        assert re.findall(r"errorlist[^>]*>\s*<li>([^<]*)", page), typed
        assert f'value="{typed}"' in page
    history.hill.refresh_from_db()
    assert history.hill.list_size is None
    assert client.post(change, fields | {"list_size": "6100"}).status_code == 302
    history.hill.refresh_from_db()
    assert history.hill.list_size == 6100


# --- queries ----------------------------------------------------------------------------------------------------


def _queries(client, query):
    client.get(URL, query)  # the session's first page may save it
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, query).status_code == 200
    return len(captured.captured_queries)


def _grow(history, n):
    for i in range(n):
        team = factories.TeamFactory(organisation=history.org)
        history.close(history.refer(team, _at(2026, 1 + i % 6)))
        history.refer(None, _at(2025, 8 + i % 4))
    running_figures.refresh_pending()


def test_the_engagement_view_takes_the_same_queries_with_few_and_many_rows(history):
    manager = _client(factories.partnership_member(history.partnership, Role.MANAGER))
    supervisor = _client(factories.advisor(history.partnership.advice_organisation, supervisor=True))
    champion = _client(history.champion)
    few = [_queries(manager, {}), _queries(supervisor, {}), _queries(champion, {"organisation": history.org.pk})]
    _grow(history, 30)
    many = [_queries(manager, {}), _queries(supervisor, {}), _queries(champion, {"organisation": history.org.pk})]
    # Before the view (tests/core/test_request_overhead.py), then: whether figures wait to be counted, the
    # teams, the cells; a lead's partnership's organisations; a supervisor's partnerships; a champion's list and
    # its audit entries (one INSERT).
    assert few == many == [7, 8, 8]


# --- the digest -------------------------------------------------------------------------------------------------


def test_the_digest_goes_to_referrers_champions_and_leads_once_each_with_the_teams(history):
    from hjp.notifications.models import Message, MessageKind

    advice = history.partnership.advice_organisation
    manager = factories.partnership_member(history.partnership, Role.MANAGER)
    supervisor = factories.advisor(advice, supervisor=True)
    gone_champion = factories.referrer(history.org, is_champion=True)
    gone_champion.is_active = False
    gone_champion.save()
    not_told = [
        factories.advisor(advice),
        factories.partnership_member(history.partnership, Role.FUNDER),
        factories.partnership_member(factories.PartnershipFactory(), Role.MANAGER),
        factories.referrer(factories.OrganisationFactory(), is_champion=True),
        gone_champion,
    ]
    for day in range(1, 13):
        history.refer(history.ward_c, _at(2026, 4, day))
    running_figures.refresh_pending()

    queued = services.send_monthly_digests(year=2026, month=5)
    assert services.send_monthly_digests(year=2026, month=5) == queued  # the same keys: nothing twice
    about_riverside = Message.objects.filter(kind=MessageKind.DIGEST, key__startswith=f"digest:{history.org.pk}:")
    recipients = {message.recipient for message in about_riverside}
    assert recipients == {history.author, history.colleague, history.champion, manager, supervisor}
    assert about_riverside.count() == 5
    assert not Message.objects.filter(recipient__in=not_told).exists()

    urls = {message.recipient: message.url for message in about_riverside}
    assert urls[history.colleague] == reverse("referrals:list")
    assert urls[history.champion] == f"{URL}?organisation={history.org.pk}"
    assert urls[manager] == urls[supervisor] == URL

    champions = about_riverside.get(recipient=history.champion)
    assert champions.subject == "Referrals from Riverside Surgery in May 2026"  # a lead gets one per organisation
    body = champions.body
    assert "Referrals by team, the last twelve months (1 Jun 2025 to 31 May 2026):" in body
    assert "- Ward A: fewer than 10 referrals\n" in body
    assert "- Ward B: fewer than 10 referrals\n" in body
    assert "- Ward C: 10 referrals\n" in body  # 12, rounded to 5; no share of fewer than 10 closed
    assert "- No team recorded: fewer than 10 referrals\n" in body
    assert "Winifred" not in body
    # Composed again at delivery, each reads the same.
    assert services.compose_digest(champions)[1] == body
    leads = about_riverside.get(recipient=manager)
    assert leads.key == f"digest:{history.org.pk}:2026-05:partnership:{history.partnership.pk}:user:{manager.pk}"
    assert leads.subject == f"Referrals from Riverside Surgery through {history.partnership.name} in May 2026"
    assert services.compose_digest(leads) == (leads.subject, leads.body)


def test_a_lead_of_one_partnership_never_reads_the_organisation_s_referrals_through_another(
    history, django_assert_num_queries
):
    """Riverside refers through two partnerships: each one's leads get its digest with that partnership's
    figures and teams only; Riverside's own people get the whole of it, as before."""
    from hjp.notifications.models import Message, MessageKind

    for day in range(1, 13):  # 12 more through the first partnership in April
        history.refer(history.ward_c, _at(2026, 4, day))
    for day in range(1, 24):  # 23 through the second partnership in May
        history.refer(history.ward_b, _at(2026, 5, day), partnership=history.other_partnership)
    running_figures.refresh_pending()
    manager_a = factories.partnership_member(history.partnership, Role.MANAGER)
    supervisor_a = factories.advisor(history.partnership.advice_organisation, supervisor=True)
    manager_b = factories.partnership_member(history.other_partnership, Role.MANAGER)
    supervisor_b = factories.advisor(history.other_partnership.advice_organisation, supervisor=True)

    queued = services.send_monthly_digests(year=2026, month=5)
    assert services.send_monthly_digests(year=2026, month=5) == queued
    digests = Message.objects.filter(kind=MessageKind.DIGEST, key__startswith=f"digest:{history.org.pk}:")
    assert digests.count() == queued == 3 + 4  # author, colleague, champion; two leads of each partnership
    body = {message.recipient: message.body for message in digests}
    subject = {message.recipient: message.subject for message in digests}

    def twelve_months(text):
        return re.search(r"The last twelve months \(.*?\):\n- Referrals made: ([^\n]*)", text)[1]

    def team(text, name):
        return re.search(rf"- {name}: ([^\n]*)", text)[1]

    # June 2025 to May 2026, the whole: Ward A's 3 (June 2025, January, March through the second), Ward B's 3 in
    # February and 23 in May, Ward C's 12, one with no team: 42.
    assert twelve_months(body[history.champion]) == twelve_months(body[history.colleague]) == "40"
    assert team(body[history.champion], "Ward B") == "25 referrals"
    for lead in (manager_a, supervisor_a):
        assert subject[lead] == f"Referrals from Riverside Surgery through {history.partnership.name} in May 2026"
        assert f"through {history.partnership.name} (not its referrals through any other partnership)" in body[lead]
        assert twelve_months(body[lead]) == "20"  # 18: Ward A's 2, Ward B's 3, Ward C's 12, one with no team
        assert team(body[lead], "Ward B") == "fewer than 10 referrals"  # its 3 in February only
        assert team(body[lead], "Ward C") == "10 referrals"
        assert not re.search(r": (25|40)\b", body[lead])  # no count of the other partnership's, nor the whole's
    for lead in (manager_b, supervisor_b):
        assert subject[lead] == f"Referrals from Riverside Surgery through {history.other_partnership.name} in May 2026"
        assert twelve_months(body[lead]) == "25"  # 24: Ward B's 23 and Ward A's one in March
        assert team(body[lead], "Ward B") == "25 referrals"
        assert team(body[lead], "Ward C") == "fewer than 10 referrals"  # none through this one
        assert not re.search(r": 40\b", body[lead])

    # Composed again at delivery, in the same number of queries for a lead's digest as for the champion's.
    for recipient in (history.champion, manager_a, supervisor_b):
        message = digests.get(recipient=recipient)
        with django_assert_num_queries(6):  # the organisation; the figures of three periods; the teams; the cells
            assert services.compose_digest(message) == (message.subject, message.body)
