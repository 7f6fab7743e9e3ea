"""The managers' dashboard: every figure against numbers worked out by hand on a small fixed data set, the
period form, the charts' wiring, access and the query count."""

import re
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from casework.models import CaseState, ClosureReason
from hjp.accounts.models import Profession, Role
from outcomes import running_figures
from outcomes.selectors.dashboard import (
    AdvisorCaseload,
    FunderShare,
    Totals,
    ValueForMoney,
    Wellbeing,
    chart_data,
    partnership_summary,
)
from outcomes.selectors.figures import MoneyGain, MoneyTotals, Period
from referrals.models import DeclineReason, ReferralStatus, Setting
from tests import factories
from tests.support.pages import looks_missing, without_nonces

S = ReferralStatus
PERIOD = {"period": "quarter-2025-4"}  # January to March 2026: pages offer fixed periods only
PATIENT_NAME = ("Zebedee", "Quartermaine")


def at(month, day, hour=12):
    return datetime(2026, month, day, hour, tzinfo=UTC)


class World:
    """Partnership "Test HJP": two practices referring to one advice service, and a referral of another
    partnership that must never be counted. Worked through by hand (period 1 Jan to 30 Jun 2026):

    referral  org/team            profession  setting       decile  submitted  case
    R1        Riverside           GP          primary care  1       10 Jan     closed 15 Feb, contact after 2 days
    R2        Riverside           nurse       primary care  1       20 Jan     closed 10 Mar, contact after 5 days
    R3        Hilltop / Ward 7    mental h.   inpatient     3       5 Feb      open, contact after 0.5 days
    R4        Hilltop / Ward 7    allied h.   inpatient     -       1 Mar      open at 30 Jun (closed 1 Aug)
    R5        Riverside           GP          primary care  10      15 Mar     declined
    R6        Riverside           GP          (none)        -       2 Apr      redirected
    R7        Riverside           GP          primary care  -       10 Apr     awaiting a decision
    R8        Riverside           GP          primary care  -       5 May      entered in error: not counted
    R9        Riverside           GP          primary care  -       20 Dec 25  before the period; case closed 1 Feb
    R10       Riverside           GP          primary care  -       1 Jun      consent withdrawn: case closed 10 Jun,
                                                                               contact after 3 days
    """

    def __init__(self):
        self.riverside = factories.OrganisationFactory(name="Riverside Surgery")
        self.hilltop = factories.OrganisationFactory(name="Hilltop Practice")
        self.ward = factories.TeamFactory(organisation=self.hilltop, name="Ward 7")
        self.partnership = factories.PartnershipFactory(
            name="Test HJP", health_organisations=[self.riverside, self.hilltop]
        )
        advice = self.partnership.advice_organisation
        self.alex = factories.MembershipFactory(
            role=Role.ADVISOR, organisation=advice, profession="", user__full_name="Alex Advisor"
        ).user
        self.blake = factories.MembershipFactory(
            role=Role.ADVISOR, organisation=advice, profession="", user__full_name="Blake Advisor"
        ).user
        self.manager = factories.partnership_member(self.partnership, Role.MANAGER)
        self.funder = factories.partnership_member(self.partnership, Role.FUNDER)

        r1 = self.referral(
            submitted=at(1, 10),
            decile=1,
            status=S.CLOSED,
            patient__given_name=PATIENT_NAME[0],
            patient__family_name=PATIENT_NAME[1],
        )
        r2 = self.referral(submitted=at(1, 20), decile=1, status=S.CLOSED, referrer_profession=Profession.NURSE)
        r3 = self.referral(
            submitted=at(2, 5),
            decile=3,
            status=S.IN_PROGRESS,
            organisation=self.hilltop,
            referring_team=self.ward,
            referrer_profession=Profession.MENTAL_HEALTH,
            setting=Setting.INPATIENT,
        )
        r4 = self.referral(
            submitted=at(3, 1),
            status=S.CLOSED,
            organisation=self.hilltop,
            referring_team=self.ward,
            referrer_profession=Profession.ALLIED_HEALTH,
            setting=Setting.INPATIENT,
        )
        self.referral(submitted=at(3, 15), decile=10, status=S.DECLINED)
        self.referral(submitted=at(4, 2), status=S.REDIRECTED, setting="")
        self.referral(submitted=at(4, 10), status=S.SUBMITTED)
        self.referral(submitted=at(5, 5), status=S.ENTERED_IN_ERROR)
        r9 = self.referral(submitted=datetime(2025, 12, 20, 12, tzinfo=UTC), status=S.CLOSED)
        r10 = self.referral(submitted=at(6, 1), status=S.CANCELLED)
        factories.ReferralFactory(submitted_at=at(2, 1))  # another partnership's

        c1 = self.case(r1, self.alex, contact=at(1, 12), closed=at(2, 15))
        c2 = self.case(r2, self.blake, contact=at(1, 25), closed=at(3, 10))
        c3 = self.case(r3, self.alex, contact=at(2, 6, hour=0))
        c4 = self.case(
            r4, self.blake, contact=None, closed=datetime(2026, 8, 1, 12, tzinfo=UTC), reason=ClosureReason.NO_CONTACT
        )
        c9 = self.case(r9, self.blake, contact=datetime(2025, 12, 22, 12, tzinfo=UTC), closed=at(2, 1))
        self.case(r10, self.blake, contact=at(6, 4), closed=at(6, 10), reason=ClosureReason.CONSENT_WITHDRAWN)

        issue = {case: factories.CaseIssueFactory(case=case) for case in (c1, c2, c3, c4, c9)}
        for case, stage, result in [
            (c1, "initial_claim", "refused"),
            (c1, "mandatory_reconsideration", "awarded"),
            (c2, "initial_claim", "awarded"),
            (c2, "tribunal_appeal", "withdrawn"),
            (c9, "tribunal_appeal", "increased"),
            (c9, "initial_claim", "refused"),
            (c3, "initial_claim", "awarded"),
            (c4, "tribunal_appeal", "awarded"),  # cases not closed in the period
        ]:
            factories.DecisionOutcomeFactory(issue=issue[case], stage=stage, result=result)
        money = factories.FinancialOutcomeFactory
        money(issue=issue[c1], recurring_amount=100, recurring_period="weekly")  # 5,200 a year
        money(issue=issue[c1], kind="backdated_award", recurring_amount=None, recurring_period="", one_off_amount=1500)
        money(issue=issue[c2], recurring_amount=250, recurring_period="monthly", one_off_amount=750, confirmed=False)
        money(issue=issue[c9], recurring_amount=80, recurring_period="four_weekly")  # 1,040 a year
        money(issue=issue[c3], recurring_amount=None, recurring_period="", one_off_amount=999)  # still open
        money(issue=issue[c4], recurring_amount=None, recurring_period="", one_off_amount=5000)  # closed later
        for case, start, close in [(c1, 14, 21), (c2, 20, 23), (c9, 18, None), (c3, 10, None), (c4, 10, 30)]:
            factories.WellbeingScoreFactory(case=case, moment="start", score=start)
            if close:
                factories.WellbeingScoreFactory(case=case, moment="close", score=close)

        factories.FundingFactory(
            partnership=self.partnership, amount=36500, period_start=date(2025, 7, 1), period_end=date(2026, 6, 30)
        )  # 181 of 365 days
        factories.FundingFactory(
            partnership=self.partnership,
            funder="Community Fund",
            amount=10000,
            period_start=date(2026, 6, 1),
            period_end=date(2026, 12, 31),
        )  # 30 of 214 days
        # In kind, for 2026: a room from the practice (3,650) and admin time from the ICB (730).
        factories.InKindSupportFactory(partnership=self.partnership)
        factories.InKindSupportFactory(
            partnership=self.partnership,
            kind="admin_time",
            description="Half a day a week of reception time",
            provider="Integrated Care Board",
            estimated_value=730,
        )
        factories.InKindSupportFactory(estimated_value=77777)  # another partnership's
        factories.FundingFactory(
            partnership=self.partnership, amount=99999, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31)
        )  # before the period
        factories.FundingFactory(amount=88888, period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))

    def referral(self, *, submitted, status, decile=None, organisation=None, **kwargs):
        organisation = organisation or self.riverside
        kwargs.setdefault("patient__deprivation_decile", decile)
        return factories.ReferralFactory(
            partnership=self.partnership,
            referring_organisation=organisation,
            submitted_at=submitted,
            status=status,
            **kwargs,
        )

    def case(self, referral, advisor, *, contact, closed=None, reason=ClosureReason.WORK_COMPLETED):
        state = CaseState.CLOSED if closed else CaseState.IN_PROGRESS if contact else CaseState.AWAITING_CONTACT
        return factories.CaseFactory(
            referral=referral,
            advisor=advisor,
            opened_at=referral.submitted_at,
            first_contact_at=contact,
            state=state,
            closed_at=closed,
            closure_reason=reason if closed else "",
        )


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def summary(world):
    period = Period(start=date(2026, 1, 1), end=date(2026, 6, 30))
    return partnership_summary(partnership=world.partnership, period=period)


def _rows(breakdowns, title):
    return {row.label: row.n for row in next(b for b in breakdowns if b.title == title).rows}


def test_referral_totals(summary):
    assert summary.totals == Totals(
        received=8,
        accepted=5,
        decided=7,
        contacted=4,
        median_days_to_first_contact=Decimal("2.5"),
        closed=4,
    )
    assert summary.totals.acceptance_rate == 71


def test_the_summary_is_read_only(summary):
    with pytest.raises(FrozenInstanceError):
        summary.totals.received = 0
    with pytest.raises(FrozenInstanceError):
        summary.money.confirmed.total = Decimal("0.00")


def test_referrals_by_organisation_team_profession_and_setting(summary):
    breakdowns = summary.breakdowns
    assert _rows(breakdowns, "referring organisation") == {"Hilltop Practice": 2, "Riverside Surgery": 6}
    assert _rows(breakdowns, "team or ward") == {"Ward 7 (Hilltop Practice)": 2, "No team or ward given": 6}
    assert _rows(breakdowns, "referrer's profession") == {
        "GP": 5,
        "Nurse": 1,
        "Allied health professional": 1,
        "Mental health professional": 1,
        "Social worker": 0,
        "Admin staff": 0,
        "Other": 0,
    }
    assert _rows(breakdowns, "setting") == {
        "Primary care": 5,
        "Inpatient": 2,
        "Outpatient": 0,
        "Mental health": 0,
        "Community": 0,
        "Not recorded": 1,
    }


def test_every_breakdown_lists_the_same_rows_in_the_same_order_whatever_the_period_holds(world):
    """A row that showed only when it had referrals, or an order by size, would say more than a rounded count."""
    busy = partnership_summary(partnership=world.partnership, period=Period(date(2026, 1, 1), date(2026, 6, 30)))
    empty = partnership_summary(partnership=world.partnership, period=Period(date(2024, 1, 1), date(2024, 3, 31)))
    assert [[row.label for row in b.rows] for b in busy.breakdowns] == [
        [row.label for row in b.rows] for b in empty.breakdowns
    ]
    assert [row.label for row in busy.breakdowns[0].rows] == ["Hilltop Practice", "Riverside Surgery"]


def test_reach_by_deprivation_decile_lists_every_decile_and_not_known(summary):
    deciles = next(b for b in summary.breakdowns if b.title.startswith("deprivation")).rows
    assert [(row.label, row.n) for row in deciles] == [
        ("1", 2),
        ("2", 0),
        ("3", 1),
        ("4", 0),
        ("5", 0),
        ("6", 0),
        ("7", 0),
        ("8", 0),
        ("9", 0),
        ("10", 1),
        ("Not known", 4),
    ]


def test_open_caseload_per_advisor_at_the_end_of_the_period(summary):
    assert summary.caseload == (
        AdvisorCaseload(advisor="Alex Advisor", n=1),
        AdvisorCaseload(advisor="Blake Advisor", n=1),
    )


def test_success_of_claims_and_appeals_by_stage(summary):
    assert [(s.stage, s.successful, s.decided, s.rate) for s in summary.decisions] == [
        ("Initial claim", 1, 3, 33),
        ("Mandatory reconsideration", 1, 1, 100),
        ("Tribunal appeal", 1, 1, 100),
        ("All claims and appeals", 3, 5, 60),
    ]


def test_money_gained_confirmed_and_expected_apart(summary):
    assert summary.money == MoneyTotals(
        confirmed=MoneyGain(annual=Decimal("6240.00"), one_off=Decimal("1500.00"), total=Decimal("7740.00"), cases=2),
        expected=MoneyGain(annual=Decimal("3000.00"), one_off=Decimal("750.00"), total=Decimal("3750.00"), cases=1),
    )


def test_gain_per_referral_and_per_pound_of_prorated_funding_and_in_kind_support(summary):
    assert summary.value_for_money == ValueForMoney(
        funding=Decimal("19501.87"),  # 36,500 x 181/365 + 10,000 x 30/214
        gain_per_referral=Decimal("967.50"),  # 7,740 / 8
        gain_per_pound=Decimal("0.40"),  # 7,740 / 19,501.87
        in_kind=Decimal("2172.00"),  # (3,650 + 730) x 181/365
        gain_per_pound_with_in_kind=Decimal("0.36"),  # 7,740 / 21,673.87
        funders=(
            # The ICB's cash (18,100) and admin time (362): 18,462 of 21,673.87
            FunderShare(funder="Integrated Care Board", cash=Decimal("18100.00"), in_kind=Decimal("362.00"), share=85),
            FunderShare(funder="Riverside Surgery", cash=Decimal("0.00"), in_kind=Decimal("1810.00"), share=8),
            FunderShare(funder="Community Fund", cash=Decimal("1401.87"), in_kind=Decimal("0.00"), share=6),
        ),
    )
    assert summary.value_for_money.total_support == Decimal("21673.87")


def test_wellbeing_change_over_cases_with_both_scores(summary):
    assert summary.wellbeing == Wellbeing(
        cases=2,
        average_start=Decimal("17.0"),
        average_close=Decimal("22.0"),
        average_change=Decimal("5.0"),
    )


def test_month_series_for_the_charts(summary):
    assert [(row.month, row.referrals, row.confirmed, row.expected) for row in summary.months] == [
        (date(2026, 1, 1), 2, Decimal("0.00"), Decimal("0.00")),
        (date(2026, 2, 1), 1, Decimal("7740.00"), Decimal("0.00")),
        (date(2026, 3, 1), 2, Decimal("0.00"), Decimal("3750.00")),
        (date(2026, 4, 1), 2, Decimal("0.00"), Decimal("0.00")),
        (date(2026, 5, 1), 0, Decimal("0.00"), Decimal("0.00")),
        (date(2026, 6, 1), 1, Decimal("0.00"), Decimal("0.00")),
    ]
    assert chart_data(summary) == {
        "months": ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026"],
        "referrals": [2, 1, 2, 2, 0, 1],
        "confirmed": [0.0, 7740.0, 0.0, 0.0, 0.0, 0.0],
        "expected": [0.0, 0.0, 3750.0, 0.0, 0.0, 0.0],
    }


def test_declines_by_their_coded_reason(world):
    add_declines(world, ["out_of_area", "out_of_area", "no_capacity"])
    period = Period(start=date(2026, 1, 1), end=date(2026, 6, 30))
    breakdowns = partnership_summary(partnership=world.partnership, period=period).breakdowns
    assert _rows(breakdowns, "reason for declining") == {
        "Outside the advice we give": 0,
        "Patient lives outside our area": 2,
        "Patient already has an adviser for this": 0,
        "Not enough information to act on": 0,
        "Patient did not want help when contacted": 0,
        "No capacity to take new cases": 1,
        "Other": 0,
        "Not recorded": 1,  # R5, declined before reasons were coded
    }


def test_the_page_shows_declines_by_reason(client, world):
    add_declines(world, ["no_capacity"] * 6)  # three of them in January to March
    client.force_login(world.manager)
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    assert "<caption>By reason for declining</caption>" in html
    assert '<td>No capacity to take new cases</td><td class="text-end">3</td>' in html


def test_the_median_of_an_odd_number_of_waits_is_the_middle_one(world):
    period = Period(start=date(2026, 1, 1), end=date(2026, 5, 31))  # R10 (3 days) left out
    totals = partnership_summary(partnership=world.partnership, period=period).totals
    assert (totals.contacted, totals.median_days_to_first_contact) == (3, Decimal("2.0"))


def test_an_empty_period_gives_zeros_and_no_rates(world):
    period = Period(start=date(2024, 1, 1), end=date(2024, 3, 31))
    summary = partnership_summary(partnership=world.partnership, period=period)
    assert summary.totals.received == 0 and summary.totals.acceptance_rate is None
    assert summary.totals.median_days_to_first_contact is None
    assert summary.value_for_money == ValueForMoney(
        funding=Decimal("0.00"),
        gain_per_referral=None,
        gain_per_pound=None,
        in_kind=Decimal("0.00"),
        gain_per_pound_with_in_kind=None,
        funders=(),
    )
    assert summary.wellbeing.average_change is None


def test_the_page_shows_the_figures_and_the_counting_rule(client, world):
    client.force_login(world.manager)
    response = client.get(reverse("outcomes:dashboard"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    # January to March 2026: R1 to R5 received (4 accepted of 5 decided), c1, c2 and c9 closed.
    for text in (
        "Q4 2025-26 (Jan to Mar 2026): 1 Jan 2026 to 31 Mar 2026",
        "80%",
        "2.0",
        "£7,740",
        "£3,750",
        "Alex Advisor",
        "Ward 7 (Hilltop Practice)",
        "£9,000.00",  # 36,500 x 90/365
        "£1,548.00",
        "60%",
        "+5.0",
        "cases closed in the period",
        "The figures\n  here are exact",
    ):
        assert text in html, text


def test_the_page_shows_value_for_money_with_in_kind_support_and_each_funders_share(client, world):
    client.force_login(world.manager)
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    # January to March 2026: cash 9,000 (the ICB's), in kind 900 (the room) + 180 (the ICB's admin time).
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="text-end">([^<]+)</td>', html)
    assert ("In-kind support for the period (estimated value, prorated the same way)", "£1,080.00") in rows
    assert ("Gain per £1 of cash funding", "£0.86") in rows  # 7,740 / 9,000
    assert ("Gain per £1 of cash and in-kind support", "£0.77") in rows  # 7,740 / 10,080
    funders = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td class="text-end">([^<]+)</td><td class="text-end">([^<]+)</td>'
        r'<td class="text-end">([^<]+)</td></tr>',
        html.split('id="funders-table"')[1].split("</table>")[0],
    )
    assert funders == [
        ("Integrated Care Board", "£9,000.00", "£180.00", "91%"),
        ("Riverside Surgery", "£0.00", "£900.00", "9%"),
    ]


def test_the_charts_are_drawn_by_a_static_script_from_json_data(client, world):
    client.force_login(world.manager)
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    assert '<script id="dashboard-chart-data" type="application/json">' in html
    for script in ("vendor/chartjs/chart.umd.min.js", "js/dashboard-charts.js"):
        assert re.search(rf'<script src="[^"]*{re.escape(script)}" nonce="[^"]+"></script>', html), script
        assert finders.find(script), script
    assert " style=" not in html and " onclick=" not in html


def test_the_dashboard_defaults_to_the_current_financial_quarter(client, world, time_machine):
    """Managers' figures are exact, so their dashboard offers the periods under way too; the funder report does not."""
    time_machine.move_to(datetime(2026, 11, 28, 12, tzinfo=UTC))
    client.force_login(world.manager)
    response = client.get(reverse("outcomes:dashboard"))
    assert (response.context["period"].start, response.context["period"].end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert '<option value="quarter-2026-3" selected>Q3 2026-27 (Oct to Dec 2026)</option>' in response.content.decode()
    report = client.get(reverse("outcomes:funder_report"))
    assert (report.context["period"].start, report.context["period"].end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert 'value="quarter-2026-3"' not in report.content.decode()


def test_the_funder_report_offers_only_months_quarters_and_financial_years_that_ended(client, world, time_machine):
    time_machine.move_to(datetime(2026, 5, 2, 12, tzinfo=UTC))
    client.force_login(world.funder)
    choices = dict(client.get(reverse("outcomes:funder_report")).context["form"].fields["period"].choices)
    # The partnership started on 1 Jan 2025: from the financial year that holds it to April 2026.
    assert [label for _, label in choices["Financial years (April to March)"]] == [
        "2025-26 (April 2025 to March 2026)",
        "2024-25 (April 2024 to March 2025)",
    ]
    assert [key for key, _ in choices["Financial quarters"]][:2] == ["quarter-2025-4", "quarter-2025-3"]
    assert [key for key, _ in choices["Months"]][0] == "month-2026-04"
    assert [key for key, _ in choices["Months"]][-1] == "month-2025-01"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-01-01", "end": "2026-06-30"}, "Reports now cover a fixed period"),
        ({"start": "2026-02-30"}, "Reports now cover a fixed period"),
        ({"end": "9999-12-31"}, "Reports now cover a fixed period"),
        ({"period": "2026-01-01"}, "Choose a month, a quarter or a financial year from the list."),
        ({"period": "month-2026-13"}, "Choose a month, a quarter or a financial year from the list."),
        ({"period": "year-2999"}, "Choose a month, a quarter or a financial year from the list."),
    ],
)
def test_free_dates_and_unknown_periods_give_a_clear_message_not_an_error(client, world, query, message, time_machine):
    time_machine.move_to(datetime(2026, 11, 28, 12, tzinfo=UTC))
    client.force_login(world.manager)
    response = client.get(reverse("outcomes:dashboard"), query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Showing Q3 2026-27 (Oct to Dec 2026) instead." in response.content.decode()


def test_a_manager_of_another_partnership_gets_404(client, world):
    client.force_login(factories.partnership_member(factories.PartnershipFactory(), Role.MANAGER))
    response = client.get(reverse("outcomes:dashboard"), {"partnership": world.partnership.pk, **PERIOD})
    missing = client.get(reverse("outcomes:dashboard"), {"partnership": world.partnership.pk + 1000, **PERIOD})
    # The same page as for a partnership that does not exist: nothing tells them it does.
    assert looks_missing(response) and without_nonces(response) == without_nonces(missing)
    assert world.partnership.name not in response.content.decode()


def test_a_funder_has_no_dashboard(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:dashboard"), PERIOD)
    assert looks_missing(response) and world.partnership.name not in response.content.decode()


def test_no_patient_details_on_the_dashboard(client, world):
    client.force_login(world.manager)
    html = client.get(reverse("outcomes:dashboard"), PERIOD).content.decode()
    patient = world.partnership.referrals.get(patient__family_name=PATIENT_NAME[1]).patient
    for detail in (*PATIENT_NAME, patient.postcode, patient.phone, patient.address):
        assert detail not in html
    assert world.partnership.referrals.first().description not in html


def add_closed_cases(world, n):
    """n more referrals across new organisations, teams, advisors and months, each with a closed case that
    has outcomes of every kind."""
    for i in range(n):
        organisation = factories.OrganisationFactory()
        world.partnership.health_organisations.add(organisation)
        referral = world.referral(
            submitted=at(1 + i % 6, 1 + i % 27),
            status=S.CLOSED,
            organisation=organisation,
            decile=1 + i % 10,
            referring_team=factories.TeamFactory(organisation=organisation),
            referrer_profession=list(Profession)[i % len(Profession)],
        )
        case = world.case(
            referral,
            factories.advisor(world.partnership.advice_organisation),
            contact=at(1 + i % 6, 2 + i % 27),
            closed=at(1 + i % 6, 28, hour=18),
        )
        issue = factories.CaseIssueFactory(case=case)
        factories.DecisionOutcomeFactory(issue=issue, result="refused" if i % 2 else "awarded")
        factories.FinancialOutcomeFactory(issue=issue, confirmed=bool(i % 3))
        factories.WellbeingScoreFactory(case=case, moment="start", score=12)
        factories.WellbeingScoreFactory(case=case, moment="close", score=20)


def add_declines(world, reasons):
    """A declined referral for each coded reason given, declined at triage with its reason kept apart."""
    for i, reason in enumerate(reasons):
        referral = world.referral(submitted=at(1 + i % 6, 3), status=S.DECLINED)
        factories.ReferralStatusChangeFactory(
            referral=referral,
            to_status=S.DECLINED,
            decline_reason=reason,
            reason="Try the county service.",
            actor=world.alex,
        )


# Session, the user (with its inbox count and second-factor devices), its memberships with their partnerships (3),
# the figures (5: anything pending?, the running totals, the open caseload, the partnership's organisations and
# teams in one query, so every breakdown lists the same rows, and its funding).
DASHBOARD_QUERIES = 8


def test_the_number_of_queries_does_not_grow_with_the_rows(client, world, django_assert_num_queries):
    client.force_login(world.manager)
    url = reverse("outcomes:dashboard")
    # The test's writes are never committed, so no task counts them: the dashboard would (tested elsewhere).
    running_figures.refresh_pending()
    with django_assert_num_queries(DASHBOARD_QUERIES) as few_rows:
        assert client.get(url, PERIOD).status_code == 200
    add_closed_cases(world, 40)
    add_declines(world, list(DeclineReason) * 3)
    running_figures.refresh_pending()
    with django_assert_num_queries(DASHBOARD_QUERIES) as many_rows:
        response = client.get(url, PERIOD)
    # January to March: the 5 of World, 20 of the 40 closed cases and 13 of the 21 declines.
    assert response.context["summary"].totals.received == 5 + 20 + 13
    assert len(many_rows.captured_queries) == len(few_rows.captured_queries)
