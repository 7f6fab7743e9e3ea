"""The funders' report and its CSV: the dashboard's figures with small numbers suppressed."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from outcomes import disclosure
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


@pytest.fixture
def world(db):
    return World()


def _report_rows(world):
    period = Period(start=date(2026, 1, 1), end=date(2026, 6, 30))
    summary = partnership_summary(partnership=world.partnership, period=period)
    return {(row.section, row.measure): row.display for row in funder_report_rows(summary)}


@pytest.mark.parametrize(
    ("count", "shown"), [(None, "-"), (0, "0"), (1, "fewer than 5"), (4, "fewer than 5"), (5, "5"), (12, "12")]
)
def test_counts_from_1_to_4_are_shown_as_fewer_than_5(count, shown):
    assert disclosure.suppress(count) == shown


def test_small_counts_and_every_figure_derived_from_them_are_suppressed(world):
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
            (VALUE, "Funding for the period (prorated by days)"),
            (VALUE, "Gain per referral received"),
            (VALUE, "Gain per £1 of funding"),
            (WELLBEING, "Cases scored at start and close"),
            (WELLBEING, "Average change"),
        ]
    } == {
        (REFERRALS, "Referrals received"): "8",
        (REFERRALS, "Referrals accepted"): "5",
        (REFERRALS, "Acceptance rate"): "71%",  # 5 of 7: neither count is small
        (REFERRALS, "Median days from referral to first contact"): "suppressed",  # over 4 referrals
        ("Referrals by referring organisation", "Riverside Surgery"): "6",
        ("Referrals by referring organisation", "Hilltop Practice"): "fewer than 5",
        ("Referrals by deprivation decile (1 = most deprived)", "1"): "fewer than 5",
        ("Referrals by deprivation decile (1 = most deprived)", "2"): "0",
        ("Casework", "Cases closed in the period"): "fewer than 5",
        ("Casework", "Cases open at the end of the period"): "fewer than 5",
        (DECISIONS, "Initial claim: decisions"): "fewer than 5",
        (DECISIONS, "Initial claim: success rate"): "suppressed",
        (DECISIONS, "All claims and appeals: decisions"): "5",
        (DECISIONS, "All claims and appeals: success rate"): "suppressed",  # 3 won
        (MONEY, "Confirmed: cases"): "fewer than 5",
        (MONEY, "Confirmed: total"): "suppressed",
        (MONEY, "Expected: one-off"): "suppressed",
        (VALUE, "Funding for the period (prorated by days)"): "£19,501.87",
        (VALUE, "Gain per referral received"): "suppressed",
        (VALUE, "Gain per £1 of funding"): "suppressed",
        (WELLBEING, "Cases scored at start and close"): "fewer than 5",
        (WELLBEING, "Average change"): "suppressed",
    }


def test_figures_resting_on_5_or_more_are_shown(world):
    add_closed_cases(world, 40)  # 40 more closed cases: money confirmed on 26 + 2, expected on 14 + 1
    rows = _report_rows(world)
    assert rows[(MONEY, "Confirmed: cases")] == "28"
    assert rows[(MONEY, "Confirmed: total")] == "£142,940.00"  # 7,740 + 26 x 5,200
    assert rows[(VALUE, "Gain per referral received")] == "£2,977.92"  # 142,940 / 48
    assert rows[(WELLBEING, "Cases scored at start and close")] == "42"
    assert rows[(WELLBEING, "Average change")] == "+7.9"  # (7 + 3 + 40 x 8) / 42
    assert rows[(REFERRALS, "Median days from referral to first contact")] == "1.0 days"


def test_declines_by_reason_with_small_counts_suppressed(client, world):
    add_declines(world, ["out_of_area"] * 5 + ["no_capacity"] * 2)
    declines = "Referrals by reason for declining"
    rows = _report_rows(world)
    assert {measure: shown for (section, measure), shown in rows.items() if section == declines} == {
        "Outside the advice we give": "0",
        "Patient lives outside our area": "5",
        "Patient already has an adviser for this": "0",
        "Not enough information to act on": "0",
        "Patient did not want help when contacted": "0",
        "No capacity to take new cases": "fewer than 5",
        "Other": "0",
        "Not recorded": "fewer than 5",
    }
    client.force_login(world.funder)
    csv_rows = _csv(client.get(reverse("outcomes:funder_report_csv"), PERIOD))
    assert [
        "Test HJP",
        "2026-01-01",
        "2026-06-30",
        declines,
        "Patient lives outside our area",
        "5",
        "count",
    ] in csv_rows
    assert [
        "Test HJP",
        "2026-01-01",
        "2026-06-30",
        declines,
        "No capacity to take new cases",
        "fewer than 5",
        "count",
    ] in csv_rows


def test_the_printable_report_shows_no_suppressed_figure(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "fewer than 5" in html and "suppressed" in html and "£19,501.87" in html
    for hidden in ("£7,740", "2.5 days", "£3,750", "Alex Advisor"):
        assert hidden not in html
    assert reverse("outcomes:funder_report_csv") in html


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_export(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report_csv"), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="funder-report-test-hjp-20260101-20260630.csv"'
    header, *rows = _csv(response)
    assert header == CSV_COLUMNS
    assert ["Test HJP", "2026-01-01", "2026-06-30", REFERRALS, "Referrals received", "8", "count"] in rows
    assert ["Test HJP", "2026-01-01", "2026-06-30", REFERRALS, "Acceptance rate", "71", "percent"] in rows
    assert ["Test HJP", "2026-01-01", "2026-06-30", MONEY, "Confirmed: total", "suppressed", "GBP"] in rows
    assert [
        "Test HJP",
        "2026-01-01",
        "2026-06-30",
        "Casework",
        "Cases closed in the period",
        "fewer than 5",
        "count",
    ] in rows
    assert [
        "Test HJP",
        "2026-01-01",
        "2026-06-30",
        VALUE,
        "Funding for the period (prorated by days)",
        "19501.87",
        "GBP",
    ] in rows
    assert not any(value in ("7740.00", "2.5") for *_, value, _ in rows)


def test_the_csv_export_is_audited(client, world):
    client.force_login(world.manager)
    client.get(reverse("outcomes:funder_report_csv"), PERIOD)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.object_id) == (
        world.manager,
        "accounts.partnership",
        str(world.partnership.pk),
    )
    assert "1 Jan 2026 to 30 Jun 2026" in event.summary


def test_the_csv_refuses_bad_dates_with_a_message(client, world):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report_csv"), {"start": "2026-06-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_text_a_spreadsheet_would_run_is_defused(client, world):
    world.riverside.name = '=HYPERLINK("http://evil.test")'
    world.riverside.save()
    client.force_login(world.funder)
    rows = _csv(client.get(reverse("outcomes:funder_report_csv"), PERIOD))
    assert ['\'=HYPERLINK("http://evil.test")', "6"] in [[measure, value] for *_, measure, value, _ in rows]


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


@pytest.mark.parametrize("query", [{"end": "0001-01-01"}, {"end": "9999-12-31"}])
def test_the_csv_refuses_dates_off_the_calendar_with_a_message(client, world, query):
    client.force_login(world.funder)
    response = client.get(reverse("outcomes:funder_report_csv"), query)
    assert response.status_code == 400
    assert "Enter a date from 1900 to 2999." in response.content.decode()


# Session, user, roles and partnerships (4), the figures (15), then the page's inbox badge (1) and saving the
# session (3), or the CSV's audit entry (1) and saving the session (savepoint, update, release: 3).
REPORT_QUERIES = {"outcomes:funder_report": 24, "outcomes:funder_report_csv": 24}


@pytest.mark.parametrize("url_name", ["outcomes:funder_report", "outcomes:funder_report_csv"])
def test_the_number_of_queries_of_the_report_does_not_grow_with_the_rows(
    client, world, url_name, django_assert_num_queries
):
    client.force_login(world.funder)
    with django_assert_num_queries(REPORT_QUERIES[url_name]):
        assert client.get(reverse(url_name), PERIOD).status_code == 200
    add_closed_cases(world, 40)
    add_declines(world, ["other"] * 6)
    with django_assert_num_queries(REPORT_QUERIES[url_name]):
        assert client.get(reverse(url_name), PERIOD).status_code == 200
