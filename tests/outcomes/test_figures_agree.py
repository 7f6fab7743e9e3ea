"""The managers' dashboard, the funders' report (and its CSV) and a referring organisation's monthly digest
count with one definition per figure: on the same data they give the same figures.

One health organisation in one partnership, March 2026, ten referrals of each kind (so that every count is
shown, and is a multiple of 5 that rounding leaves as it is), each taken through the real services:

kind                                  received  accepted  decided  case closed  decisions   money confirmed
closed (work completed)               10        10        10       10           10 awarded  10 x £5,200
closed on consent withdrawal          10        10        10       10           10 refused  10 x £5,200
in progress                           10        10        10       -            -           -
declined                              10        -         10       -            -           -
redirected                            10        -         10       -            -           -
cancelled by the referrer             10        -         -        -            -           -
entered in error                      -         -         -        -            -           -
total                                 60        30        50       20           10 of 20    £104,000.00
"""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import ClosureReason
from hjp.accounts.models import Role
from hjp.notifications.models import Message, MessageKind
from outcomes import services
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests import factories

S = ReferralStatus
PERIOD = {"period": "month-2026-03"}
EACH = 10
EXPECTED = {
    "received": 60,
    "accepted": 30,
    "closed": 20,
    "decided": 20,
    "success rate": 50,
    "money confirmed": "£104,000.00",
}


class Month:
    def __init__(self):
        self.health = factories.OrganisationFactory(name="Riverside Surgery")
        self.partnership = factories.PartnershipFactory(name="Agreeing HJP", health_organisations=[self.health])
        self.advice = self.partnership.advice_organisation
        self.referrer = factories.referrer(self.health)
        self.advisor = factories.advisor(self.advice)
        self.provider = factories.AdviceProviderFactory(advice_organisation=self.advice)
        for _ in range(EACH):
            self.worked_case(result="awarded").close()
            case = self.worked_case(result="refused")
            referral_services.consent_withdraw(referral=case.referral, actor=self.referrer)
            self.open_case()
            casework_services.referral_decline(
                referral=self.referral(),
                actor=self.advisor,
                reason="out_of_area",
                explanation="Try the county service.",
            )
            casework_services.referral_redirect(
                referral=self.referral(), actor=self.advisor, provider=self.provider, note="They do housing."
            )
            referral_services.referral_transition(
                referral=self.referral(), to_status=S.CANCELLED, actor=self.referrer, reason="Patient moved away"
            )
            referral_services.referral_transition(
                referral=self.referral(), to_status=S.ENTERED_IN_ERROR, actor=self.referrer, reason="Wrong patient"
            )

    def referral(self):
        return factories.ReferralFactory(
            partnership=self.partnership,
            referring_organisation=self.health,
            referrer=self.referrer,
            submitted_at=timezone.now(),
        )

    def open_case(self):
        case = casework_services.referral_accept(referral=self.referral(), actor=self.advisor)
        casework_services.case_note_add(
            case=case,
            actor=self.advisor,
            kind="call",
            text="First call.",
            occurred_at=timezone.now(),
            first_contact=True,
        )
        case.refresh_from_db()
        return case

    def worked_case(self, *, result):
        case = self.open_case()
        issue = case.issues.get()
        services.decision_outcome_add(case=case, issue=issue, actor=self.advisor, stage="initial_claim", result=result)
        services.financial_outcome_add(
            case=case,
            issue=issue,
            actor=self.advisor,
            kind="new_or_increased_award",
            recurring_amount=100,
            recurring_period="weekly",
            confirmed=True,
        )
        case.close = lambda: services.case_close_with_outcomes(
            case=case, actor=self.advisor, version=case.version, closure_reason=ClosureReason.WORK_COMPLETED
        )
        return case


@pytest.fixture
def month(db, time_machine):
    time_machine.move_to(datetime(2026, 3, 15, 12, tzinfo=UTC), tick=False)
    built = Month()
    time_machine.move_to(datetime(2026, 4, 2, 12, tzinfo=UTC), tick=False)  # reports offer months that have ended
    return built


def _dashboard(client, month) -> dict:
    client.force_login(factories.partnership_member(month.partnership, Role.MANAGER))
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    headline = re.search(
        r"Referrals received (\d+) Acceptance rate \d+% (\d+) accepted of \d+ decided .*? Cases closed (\d+) "
        r"Money gained, confirmed (£[\d,.]+) .*? Claims and appeals won (\d+)% \d+ of (\d+) decided",
        text,
    )
    received, accepted, closed, money, rate, decided = headline.groups()
    return {
        "received": int(received),
        "accepted": int(accepted),
        "closed": int(closed),
        "decided": int(decided),
        "success rate": int(rate),
        "money confirmed": money,
    }


def _funder_report_csv(client, month) -> dict:
    client.force_login(factories.partnership_member(month.partnership, Role.FUNDER))
    rows = list(csv.reader(io.StringIO(client.get(reverse("outcomes:funder_report_csv"), PERIOD).content.decode())))
    value = {measure: value for *_, measure, value, _ in rows[1:]}
    return {
        "received": int(value["Referrals received"]),
        "accepted": int(value["Referrals accepted"]),
        "closed": int(value["Cases closed in the period"]),
        "decided": int(value["All claims and appeals: decisions"]),
        "success rate": int(value["All claims and appeals: success rate"]),
        "money confirmed": f"£{float(value['Confirmed: total']):,.2f}",
    }


def _funder_report_page(client, month) -> dict:
    client.force_login(factories.partnership_member(month.partnership, Role.FUNDER))
    rows = client.get(reverse("outcomes:funder_report"), PERIOD).context["rows"]
    value = {row.measure: row.display for row in rows}
    return {
        "received": int(value["Referrals received"]),
        "accepted": int(value["Referrals accepted"]),
        "closed": int(value["Cases closed in the period"]),
        "decided": int(value["All claims and appeals: decisions"]),
        "success rate": int(value["All claims and appeals: success rate"].rstrip("%")),
        "money confirmed": value["Confirmed: total"],
    }


def _digest(month) -> dict:
    services.send_monthly_digests(year=2026, month=3)
    body = Message.objects.get(kind=MessageKind.DIGEST, recipient=month.referrer).body

    def line(pattern):
        found = re.search(pattern, body)
        return found and found.group(1)

    return {
        "received": int(line(r"- Referrals made: (\d+)")),
        "accepted": int(line(r"- Accepted: (\d+)")),
        "closed": int(line(r"- Cases closed: (\d+)")),
        "decided": int(line(r"Success rate of claims and appeals: \d+% of (\d+) decisions") or 0),
        "success rate": int(line(r"Success rate of claims and appeals: (\d+)%") or 0),
        "money confirmed": line(r"- Money gained for patients, confirmed: (\S+)"),
    }


def test_the_dashboard_the_funder_report_and_the_digest_give_the_same_figures(client, month):
    figures = {
        "dashboard": _dashboard(client, month),
        "funder report": _funder_report_page(client, month),
        "funder report CSV": _funder_report_csv(client, month),
        "digest": _digest(month),
    }
    assert figures == dict.fromkeys(figures, EXPECTED)


def test_the_pages_say_that_a_case_closed_on_consent_withdrawal_counts_as_closed(client, month):
    for role, url in [(Role.MANAGER, "outcomes:dashboard"), (Role.FUNDER, "outcomes:funder_report")]:
        client.force_login(factories.partnership_member(month.partnership, role))
        html = client.get(reverse(url), PERIOD).content.decode()
        assert "A case closed because the patient withdrew consent counts as closed" in html


def test_the_dashboard_and_the_funder_report_count_declines_by_the_reason_given_at_triage(client, month):
    client.force_login(factories.partnership_member(month.partnership, Role.MANAGER))
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    assert '<td>Patient lives outside our area</td><td class="text-end">10</td>' in html
    assert {row["label"]: row["n"] for row in _funder_report_rows_by_reason(client, month)} == {
        "Patient lives outside our area": "10"
    }


def _funder_report_rows_by_reason(client, month):
    client.force_login(factories.partnership_member(month.partnership, Role.FUNDER))
    rows = client.get(reverse("outcomes:funder_report"), PERIOD).context["rows"]
    return [
        {"label": row.measure, "n": row.display}
        for row in rows
        if row.section == "Referrals by reason for declining" and row.value
    ]
