"""The funders' report and its CSV: the dashboard's figures through the one disclosure method (outcomes.disclosure)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from outcomes import disclosure, running_figures
from outcomes.models import WellbeingScore
from outcomes.report import funder_report_rows
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.figures import Period
from tests import factories
from tests.outcomes.test_dashboard import PATIENT_NAME, PERIOD, World, add_closed_cases, add_declines
from tests.support.pages import looks_missing, without_nonces

CSV_COLUMNS = ["partnership", "period_start", "period_end", "section", "measure", "value", "unit"]
REFERRALS = "Referrals received in the period"
MONEY = "Money gained (cases closed in the period)"
VALUE = "Value for money (confirmed gains)"
WELLBEING = "Wellbeing (SWEMWBS, cases closed in the period)"
DECISIONS = "Claims and appeals decided (cases closed in the period)"
FUNDERS = "Funders and in-kind support (for the period, prorated by days)"


@pytest.fixture
def world(db):
    return World()


def _report_rows(world):
    period = Period(start=date(2026, 1, 1), end=date(2026, 6, 30))
    summary = partnership_summary(partnership=world.partnership, period=period)
    return {(row.section, row.measure): row.display for row in funder_report_rows(summary)}


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "fewer than 10"),
        (1, "fewer than 10"),
        (4, "fewer than 10"),
        (9, "fewer than 10"),
        (10, "10"),
        (12, "10"),
        (13, "15"),
        (17, "15"),
        (18, "20"),
        (1242, "1,240"),
        (1243, "1,245"),
    ],
)
def test_counts_are_rounded_to_5_and_those_below_10_shown_as_fewer_than_10(count, shown):
    assert disclosure.count_text(count) == shown
    assert count in disclosure.published_range(shown)


def test_small_counts_and_every_figure_derived_from_them_are_withheld(world):
    rows = _report_rows(world)
    assert {
        key: rows[key]
        for key in [
            (REFERRALS, "Referrals received"),
            (REFERRALS, "Referrals accepted"),
            (REFERRALS, "Acceptance rate"),
            (REFERRALS, "Median days from referral to first contact"),
            ("Referrals by referring organisation", "Riverside Surgery"),
            ("Referrals by referring organisation", "Hilltop Practice"),
            ("Referrals by deprivation decile (1 = most deprived)", "1"),
            ("Referrals by deprivation decile (1 = most deprived)", "2"),
            ("Casework", "Cases closed in the period"),
            ("Casework", "Cases open at the end of the period"),
            (DECISIONS, "Initial claim: decisions"),
            (DECISIONS, "Initial claim: success rate"),
            (DECISIONS, "All claims and appeals: decisions"),
            (DECISIONS, "All claims and appeals: success rate"),
            (MONEY, "Confirmed: cases"),
            (MONEY, "Confirmed: total"),
            (MONEY, "Expected: one-off"),
            (VALUE, "Cash funding for the period (prorated by days)"),
            (VALUE, "In-kind support for the period (estimated, prorated by days)"),
            (VALUE, "Gain per referral received"),
            (VALUE, "Gain per £1 of cash funding"),
            (VALUE, "Gain per £1 of cash and in-kind support"),
            (FUNDERS, "Integrated Care Board: cash"),
            (FUNDERS, "Integrated Care Board: in kind"),
            (FUNDERS, "Integrated Care Board: share of all support"),
            (FUNDERS, "Riverside Surgery: in kind"),
            (FUNDERS, "Community Fund: share of all support"),
            (WELLBEING, "Cases scored at start and close"),
            (WELLBEING, "Average change"),
        ]
    } == {
        (REFERRALS, "Referrals received"): "fewer than 10",  # 8
        (REFERRALS, "Referrals accepted"): "fewer than 10",  # 5
        (REFERRALS, "Acceptance rate"): "not shown",  # 5 of 7: from rounded counts, neither shown
        (REFERRALS, "Median days from referral to first contact"): "not shown",  # over 4 referrals
        ("Referrals by referring organisation", "Riverside Surgery"): "fewer than 10",
        ("Referrals by referring organisation", "Hilltop Practice"): "fewer than 10",
        ("Referrals by deprivation decile (1 = most deprived)", "1"): "fewer than 10",
        ("Referrals by deprivation decile (1 = most deprived)", "2"): "fewer than 10",  # none: not told apart
        ("Casework", "Cases closed in the period"): "fewer than 10",
        ("Casework", "Cases open at the end of the period"): "fewer than 10",
        (DECISIONS, "Initial claim: decisions"): "fewer than 10",
        (DECISIONS, "Initial claim: success rate"): "not shown",
        (DECISIONS, "All claims and appeals: decisions"): "fewer than 10",
        (DECISIONS, "All claims and appeals: success rate"): "not shown",
        (MONEY, "Confirmed: cases"): "fewer than 10",
        (MONEY, "Confirmed: total"): "not shown",
        (MONEY, "Expected: one-off"): "not shown",
        (VALUE, "Cash funding for the period (prorated by days)"): "£19,501.87",
        (VALUE, "In-kind support for the period (estimated, prorated by days)"): "£2,172.00",
        (VALUE, "Gain per referral received"): "not shown",
        (VALUE, "Gain per £1 of cash funding"): "not shown",
        (VALUE, "Gain per £1 of cash and in-kind support"): "not shown",
        # Funders' money is no one's personal data: exact.
        (FUNDERS, "Integrated Care Board: cash"): "£18,100.00",
        (FUNDERS, "Integrated Care Board: in kind"): "£362.00",
        (FUNDERS, "Integrated Care Board: share of all support"): "85%",
        (FUNDERS, "Riverside Surgery: in kind"): "£1,810.00",
        (FUNDERS, "Community Fund: share of all support"): "6%",
        (WELLBEING, "Cases scored at start and close"): "fewer than 10",
        (WELLBEING, "Average change"): "not shown",
    }


def test_figures_resting_on_10_or_more_are_shown_rounded(world):
    add_closed_cases(world, 40)  # 40 more closed cases: money confirmed on 26 + 2, expected on 14 + 1
    rows = _report_rows(world)
    assert rows[(REFERRALS, "Referrals received")] == "50"  # 48
    assert rows[(MONEY, "Confirmed: cases")] == "30"  # 28
    assert rows[(MONEY, "Confirmed: total")] == "£142,900.00"  # 7,740 + 26 x 5,200 = 142,940, to the nearest £100
    assert rows[(VALUE, "Gain per referral received")] == "£2,858.00"  # the published 142,900 / the published 50
    assert rows[(VALUE, "Gain per £1 of cash funding")] == "£7.33"  # 142,900 / 19,501.87
    assert rows[(VALUE, "Gain per £1 of cash and in-kind support")] == "£6.59"  # 142,900 / (19,501.87 + 2,172)
    assert rows[(WELLBEING, "Cases scored at start and close")] == "40"  # 42
    assert rows[(WELLBEING, "Average change")] == "+7.9"  # (7 + 3 + 40 x 8) / 42
    assert rows[(REFERRALS, "Median days from referral to first contact")] == "1.0 days"
    assert rows[(DECISIONS, "All claims and appeals: decisions")] == "45"  # 5 + 40
    assert rows[(DECISIONS, "All claims and appeals: won")] == "25"  # 3 + 20 awarded: 23
    assert rows[(DECISIONS, "All claims and appeals: success rate")] == "56%"  # the published 25 of 45


def test_declines_by_reason_rounded(client, world):
    add_declines(world, ["out_of_area"] * 24 + ["no_capacity"] * 2)
    declines = "Referrals by reason for declining"
    rows = _report_rows(world)
    assert {measure: shown for (section, measure), shown in rows.items() if section == declines} == {
        "Outside the advice we give": "fewer than 10",
        "Patient lives outside our area": "25",  # 24
        "Patient already has an adviser for this": "fewer than 10",
        "Not enough information to act on": "fewer than 10",
        "Patient did not want help when contacted": "fewer than 10",
        "No capacity to take new cases": "fewer than 10",
        "Other": "fewer than 10",
        "Not recorded": "fewer than 10",
    }
    client.force_login(world.funder)
    csv_rows = _csv(client.get(reverse("outcomes:funder_report_csv"), PERIOD))
    quarter = ["Test HJP", "2026-01-01", "2026-03-31", declines]
    assert [*quarter, "Patient lives outside our area", "10", "count"] in csv_rows  # 12 in January to March
    assert [*quarter, "No capacity to take new cases", "fewer than 10", "count"] in csv_rows


def test_the_printable_report_shows_no_withheld_figure_and_names_the_method(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "fewer than 10" in html and "not shown" in html and "£9,000.00" in html  # 36,500 x 90/365
    for hidden in ("£7,740", "2.0 days", "£3,750", "Alex Advisor"):
        assert hidden not in html
    assert (
        f"{reverse('outcomes:funder_report_csv')}?partnership={world.partnership.pk}&amp;period=quarter-2025-4" in html
    )
    assert "every count is rounded to the nearest 5" in html and "shown as \u201cfewer than 10\u201d" in html


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_export(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report_csv"), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="funder-report-test-hjp-20260101-20260331.csv"'
    header, *rows = _csv(response)
    assert header == CSV_COLUMNS
    quarter = ["Test HJP", "2026-01-01", "2026-03-31"]
    assert [*quarter, REFERRALS, "Referrals received", "fewer than 10", "count"] in rows
    assert [*quarter, REFERRALS, "Acceptance rate", "not shown", "percent"] in rows
    assert [*quarter, MONEY, "Confirmed: total", "not shown", "GBP"] in rows
    assert [*quarter, "Casework", "Cases closed in the period", "fewer than 10", "count"] in rows
    assert [*quarter, VALUE, "Cash funding for the period (prorated by days)", "9000.00", "GBP"] in rows
    # (3,650 + 730) x 90/365
    assert [*quarter, VALUE, "In-kind support for the period (estimated, prorated by days)", "1080.00", "GBP"] in rows
    assert [*quarter, FUNDERS, "Riverside Surgery: in kind", "900.00", "GBP"] in rows
    assert not any(value in ("7740.00", "2.0") for *_, value, _ in rows)
    assert rows[-1] == [*quarter, "Notes", "Disclosure control", disclosure.METHOD, "note"]


def test_the_csv_export_is_audited(client, world):
    client.force_login(world.manager)
    client.get(reverse("outcomes:funder_report_csv"), PERIOD)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.object_id) == (
        world.manager,
        "accounts.partnership",
        str(world.partnership.pk),
    )
    assert "Q4 2025-26 (Jan to Mar 2026): 1 Jan 2026 to 31 Mar 2026" in event.summary


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-06-01", "end": "2026-01-01"}, "Reports now cover a fixed period"),
        ({"start": "2026-01-01", "end": "2026-01-01"}, "Reports now cover a fixed period"),
        ({"end": "9999-12-31"}, "Reports now cover a fixed period"),
        ({"period": "month-2026-13"}, "Choose a month, a quarter or a financial year from the list."),
    ],
)
def test_the_csv_refuses_free_dates_and_unknown_periods_with_a_message(client, world, query, message):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report_csv"), query)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_text_a_spreadsheet_would_run_is_defused(client, world):
    world.riverside.name = '=HYPERLINK("http://evil.test")'
    world.riverside.save()
    client.force_login(world.funder)
    rows = _csv(client.get(reverse("outcomes:funder_report_csv"), PERIOD))
    assert ['\'=HYPERLINK("http://evil.test")', "fewer than 10"] in [[measure, value] for *_, measure, value, _ in rows]


def test_formulas_after_whitespace_or_in_full_width_are_defused_and_negative_figures_stay_numbers(client, world):
    world.partnership.name = '  =HYPERLINK("http://evil.test")'
    world.partnership.save()
    world.riverside.name = "\n+SUM(A1:A9)"
    world.riverside.save()
    world.hilltop.name = "\u3000＝1+1"
    world.hilltop.save()
    # Wellbeing that fell over the cases closed in the period: a negative average change, over 10 cases or more.
    add_closed_cases(world, 20)
    WellbeingScore.objects.filter(moment=WellbeingScore.Moment.CLOSE).delete()
    for start in WellbeingScore.objects.filter(moment=WellbeingScore.Moment.START):
        factories.WellbeingScoreFactory(case=start.case, moment=WellbeingScore.Moment.CLOSE, score=7)
    client.force_login(world.funder)
    rows = _csv(client.get(reverse("outcomes:funder_report_csv"), PERIOD))
    assert {partnership for partnership, *_ in rows} == {"partnership", '\'  =HYPERLINK("http://evil.test")'}
    measures = {measure: value for *_, measure, value, _ in rows}
    assert "'\n+SUM(A1:A9)" in measures
    assert measures["'\u3000＝1+1"] == "fewer than 10"
    change = measures["Average change"]
    assert not change.startswith("'") and Decimal(change) < 0


@pytest.mark.parametrize("url_name", ["outcomes:funder_report", "outcomes:funder_report_csv"])
@pytest.mark.parametrize("role", [Role.MANAGER, Role.FUNDER])
def test_people_of_another_partnership_get_404(client, world, url_name, role):
    client.force_login(factories.partnership_member(factories.PartnershipFactory(), role))
    response = client.get(reverse(url_name), {"partnership": world.partnership.pk, **PERIOD})
    missing = client.get(reverse(url_name), {"partnership": world.partnership.pk + 1000, **PERIOD})
    # No figures, no name, and the same page as for a partnership that does not exist.
    assert looks_missing(response) and without_nonces(response) == without_nonces(missing)
    assert world.partnership.name not in response.content.decode()
    assert not response.get("Content-Disposition")


@pytest.mark.parametrize("url_name", ["outcomes:funder_report", "outcomes:funder_report_csv"])
def test_no_patient_details_in_the_report_or_the_csv(client, world, url_name):
    client.force_login(world.funder)
    content = client.get(reverse(url_name), PERIOD).content.decode()
    patient = world.partnership.referrals.get(patient__family_name=PATIENT_NAME[1]).patient
    for detail in (*PATIENT_NAME, patient.postcode, patient.phone, patient.address, patient.referral.reference):
        assert detail not in content


# Session, the user (with its inbox count and second-factor devices), its memberships with their partnerships (3),
# the figures (5, as on the dashboard), and the page's included case studies or the CSV's audit entry.
REPORT_QUERIES = {"outcomes:funder_report": 9, "outcomes:funder_report_csv": 9}


@pytest.mark.parametrize("url_name", ["outcomes:funder_report", "outcomes:funder_report_csv"])
def test_the_number_of_queries_of_the_report_does_not_grow_with_the_rows(
    client, world, url_name, django_assert_num_queries
):
    client.force_login(world.funder)
    running_figures.refresh_pending()  # as the task would after the commit (the test's writes are never committed)
    with django_assert_num_queries(REPORT_QUERIES[url_name]):
        assert client.get(reverse(url_name), PERIOD).status_code == 200
    add_closed_cases(world, 40)
    add_declines(world, ["other"] * 6)
    running_figures.refresh_pending()
    with django_assert_num_queries(REPORT_QUERIES[url_name]):
        assert client.get(reverse(url_name), PERIOD).status_code == 200
