"""The funder report as a PDF (its text read back with pypdf), its server-drawn SVG charts, and outcomes by
deprivation decile on the dashboard and in the report."""

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from outcomes import charts, running_figures
from outcomes.report import DEPRIVATION_SECTION, funder_report_rows
from outcomes.selectors.dashboard import DecileOutcomes, partnership_summary
from outcomes.selectors.figures import Period
from tests import factories
from tests.outcomes.test_dashboard import PATIENT_NAME, PERIOD, World, add_closed_cases, add_declines
from tests.support.pages import looks_missing

PDF = "outcomes:funder_report_pdf"
QUARTER = Period(start=date(2026, 1, 1), end=date(2026, 3, 31))


@pytest.fixture
def world(db):
    return World()


def _text(response) -> str:
    """The PDF's text, whitespace made single spaces (pypdf breaks lines where the layout does)."""
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- outcomes by deprivation decile ------------------------------------------------------------------------------


def test_the_dashboard_counts_outcomes_by_deprivation_decile(world):
    summary = partnership_summary(partnership=world.partnership, period=Period(date(2026, 1, 1), date(2026, 6, 30)))
    by_decile = {row.decile: row for row in summary.by_decile}
    assert list(by_decile) == [*(str(d) for d in range(1, 11)), "Not known"]
    # R1 and R2: both closed, both with a decision won (and money); R1's money confirmed (5,200 + 1,500).
    assert by_decile["1"] == DecileOutcomes(
        decile="1", referrals=2, closed=2, positive=2, money=Decimal("6700.00"), money_cases=1
    )
    assert by_decile["1"].positive_rate == 100
    assert by_decile["3"] == DecileOutcomes(
        decile="3", referrals=1, closed=0, positive=0, money=Decimal("0.00"), money_cases=0
    )
    assert by_decile["10"].referrals == 1 and by_decile["10"].closed == 0
    # R9 (closed with money and a decision won) and R10 (closed on withdrawal, nothing gained): decile not known.
    assert by_decile["Not known"] == DecileOutcomes(
        decile="Not known", referrals=4, closed=2, positive=1, money=Decimal("1040.00"), money_cases=1
    )
    assert sum(row.closed for row in summary.by_decile) == summary.totals.closed


def test_the_dashboard_shows_the_decile_table_exactly(client, world):
    client.force_login(world.manager)
    html = client.get(reverse("outcomes:dashboard"), {"period": "quarter-2025-4"}).content.decode()
    assert "Outcomes by deprivation decile" in html
    table = html[html.index('id="deprivation-title"') :]
    assert '<th scope="row">1</th><td class="text-end">2</td><td class="text-end">2</td>' in table
    assert "2 (100%)" in table and "£6,700.00" in table


def test_the_funder_report_rounds_the_decile_outcomes_and_keeps_back_what_rests_on_few_cases(world):
    add_closed_cases(world, 40)  # 4 more in each decile; 1 in 3 with expected money only
    rows = {
        row.measure: row.display
        for row in funder_report_rows(partnership_summary(partnership=world.partnership, period=QUARTER))
        if row.section == DEPRIVATION_SECTION
    }
    assert rows["Decile 1: cases closed"] == "fewer than 10"  # R1, R2 and 2 of the 40 in January to March
    assert rows["Decile 1: with a positive outcome"] == "not shown"
    assert rows["Decile 1: money gained, confirmed"] == "not shown"
    assert rows["Not known: cases closed"] == "fewer than 10"


# --- the SVG charts ----------------------------------------------------------------------------------------------


def test_a_bar_chart_draws_a_bar_per_value_to_scale_and_marks_a_withheld_one():
    svg = str(
        charts.bar_chart(
            title="Referrals <by> decile",
            description="Per decile & more",
            labels=["1", "2", "3"],
            series=[charts.Series("Referrals", (50, None, 100))],
            withheld_text="fewer than 10",
        )
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert '<title id="chart-referrals--by--decile-title">Referrals &lt;by&gt; decile</title>' in svg
    assert "Per decile &amp; more" in svg
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    assert len(heights) == 2 and heights[1] == pytest.approx(2 * heights[0])  # 100 is twice 50; axis up to 100
    assert svg.count("fewer than 10") == 1
    assert ">100</text>" in svg and ">0</text>" in svg  # the value axis


def test_a_line_chart_breaks_where_a_value_is_withheld_and_names_its_series():
    svg = str(
        charts.line_chart(
            title="Money",
            description="Money per month",
            labels=["Jan", "Feb", "Mar", "Apr"],
            series=[charts.Series("Confirmed", (10, 20, None, 40)), charts.Series("Expected", (5, 5, 5, 5))],
            money=True,
        )
    )
    assert svg.count("<polyline") == 2  # Jan to Feb of the first (Apr stands alone), and the whole second
    assert svg.count("<circle") == 7
    assert ">Confirmed</text>" in svg and ">Expected</text>" in svg  # the legend, with two series
    assert "£40" in svg and ">£50</text>" in svg  # a point's title; the axis's top


@pytest.mark.parametrize(("largest", "top"), [(0, 5), (None, 5), (1, 5), (5, 5), (7, 10), (12, 20), (4999, 5000)])
def test_the_value_axis_ends_on_a_round_number(largest, top):
    assert charts.nice_top(largest) == top


def test_a_chart_refuses_a_series_that_does_not_fit_its_labels():
    with pytest.raises(ValueError, match="one value per label"):
        charts.bar_chart(title="t", description="d", labels=["a", "b"], series=[charts.Series("s", (1,))])


# --- the PDF -----------------------------------------------------------------------------------------------------


def test_the_pdf_is_a_download_named_after_the_partnership_and_the_period(client, world):
    client.force_login(world.funder)
    response = client.get(reverse(PDF), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="funder-report-test-hjp-20260101-20260331.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_the_pdf_holds_the_partnership_its_headline_figures_and_withholds_what_the_printable_page_withholds(
    client, world
):
    add_closed_cases(world, 40)
    running_figures.refresh_pending()
    client.force_login(world.funder)
    text = _text(client.get(reverse(PDF), PERIOD))
    page = client.get(reverse("outcomes:funder_report"), PERIOD).context["rows"]
    shown = {(row.section, row.measure): row.display for row in page}
    assert text.count("Test HJP") >= 3  # the title, and the header of each page
    assert "Page 1 of" in text and "1 Jan 2026 to 31 Mar 2026" in text
    # The headline figures, as the printable page publishes them.
    received = shown[("Referrals received in the period", "Referrals received")]
    closed = shown[("Casework", "Cases closed in the period")]
    assert received == closed == "25"  # 25 and 23 exactly
    assert f"Referrals received {received}" in text and f"Cases closed in the period {closed}" in text
    assert "Cash funding for the period (prorated by days) £9,000.00" in text
    # A suppressed cell, and what a count kept back hides.
    assert "Decile 1: cases closed fewer than 10" in text
    assert shown[(DEPRIVATION_SECTION, "Decile 1: money gained, confirmed")] == "not shown"
    assert "Decile 1: money gained, confirmed not shown" in text
    for hidden in ("Alex Advisor", *PATIENT_NAME):
        assert hidden not in text
    # The charts are drawn in the PDF, with their text.
    assert "Referrals received per month" in text and "Referrals and cases closed by deprivation decile" in text


def test_the_pdf_is_audited_as_an_export(client, world):
    client.force_login(world.manager)
    client.get(reverse(PDF), PERIOD)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.object_type, event.object_id) == (
        world.manager,
        "accounts.partnership",
        str(world.partnership.pk),
    )
    assert event.summary.startswith("funder report PDF, Q4 2025-26")


def test_the_pdf_refuses_an_unknown_period_with_a_message_and_no_audit_entry(client, world):
    client.force_login(world.funder)
    response = client.get(reverse(PDF), {"period": "month-2026-13"})
    assert response.status_code == 400
    assert "Choose a month, a quarter or a financial year from the list." in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_the_printable_report_links_to_the_pdf(client, world):
    client.force_login(world.funder)
    html = client.get(reverse("outcomes:funder_report"), PERIOD).content.decode()
    assert f"{reverse(PDF)}?partnership={world.partnership.pk}&amp;period=quarter-2025-4" in html


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FUNDER])
def test_people_of_another_partnership_get_404_and_no_pdf(client, world, role):
    client.force_login(factories.partnership_member(factories.PartnershipFactory(), role))
    response = client.get(reverse(PDF), {"partnership": world.partnership.pk, **PERIOD})
    assert looks_missing(response) and not response.get("Content-Disposition")
    assert world.partnership.name not in response.content.decode()


def test_a_referrer_or_an_advisor_gets_no_pdf(client, world):
    for user in (factories.referrer(world.riverside), world.alex):
        client.force_login(user)
        response = client.get(reverse(PDF), PERIOD)
        assert response.status_code in (403, 404) and not response.get("Content-Disposition")


# Session, the user, its memberships with their partnerships (3), the figures (5, as on the printable report), the
# included case studies, and the audit entry: the printable report's count plus the audit entry.
PDF_QUERIES = 10


def test_the_number_of_queries_of_the_pdf_does_not_grow_with_the_rows(client, world, django_assert_num_queries):
    client.force_login(world.funder)
    running_figures.refresh_pending()
    with django_assert_num_queries(PDF_QUERIES):
        assert client.get(reverse(PDF), PERIOD).status_code == 200
    add_closed_cases(world, 40)
    add_declines(world, ["other"] * 6)
    running_figures.refresh_pending()
    with django_assert_num_queries(PDF_QUERIES):
        assert client.get(reverse(PDF), PERIOD).status_code == 200
