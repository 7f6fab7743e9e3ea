"""The funders' report and its CSV: the dashboard's figures, section by section, with small numbers suppressed
(outcomes.disclosure). Advisors' names are left out: funders see the total open caseload only."""

from dataclasses import dataclass
from decimal import Decimal

from hjp.core.money import format_money, pennies
from outcomes import disclosure
from outcomes.selectors.dashboard import PartnershipSummary
from outcomes.selectors.figures import Period

COUNT, PERCENT, POUNDS, POUNDS_PER_POUND, DAYS = "count", "percent", "GBP", "GBP per GBP funded", "days"
SCORE, CHANGE = "SWEMWBS score", "SWEMWBS points"
_FORMATS = {
    COUNT: lambda v: f"{v:,}",
    PERCENT: lambda v: f"{v}%",
    POUNDS: format_money,
    POUNDS_PER_POUND: format_money,
    DAYS: lambda v: f"{v} days",
    SCORE: str,
    CHANGE: lambda v: f"{v:+}",
}
FUNDER_CSV_COLUMNS = ["partnership", "period_start", "period_end", "section", "measure", "value", "unit"]


@dataclass(frozen=True)
class ReportRow:
    """One figure of the funder report. `suppressed` is set for a count from 1 to 4 and for every figure
    derived from one; the figure itself is then never shown."""

    section: str
    measure: str
    value: int | Decimal | None
    unit: str
    suppressed: bool = False

    @property
    def display(self) -> str:
        if self.suppressed:
            return disclosure.suppress(self.value) if self.unit == COUNT else disclosure.SUPPRESSED
        return "not available" if self.value is None else _FORMATS[self.unit](self.value)

    @property
    def csv_value(self) -> int | Decimal | str | None:
        """The figure as a number (money to the penny), so that the spreadsheet can add it up; the words
        "fewer than 5" or "suppressed" where it is withheld; None (an empty cell) where there is none."""
        if self.suppressed:
            return self.display
        if self.unit in (POUNDS, POUNDS_PER_POUND) and self.value is not None:
            return pennies(self.value)
        return self.value


def _count(section: str, measure: str, n: int) -> ReportRow:
    return ReportRow(section, measure, n, COUNT, suppressed=disclosure.is_small(n))


def _derived(section: str, measure: str, value, unit: str, *, rests_on: tuple[int, ...]) -> ReportRow:
    return ReportRow(section, measure, value, unit, suppressed=disclosure.rests_on_small(*rests_on))


def funder_report_rows(summary: PartnershipSummary) -> list[ReportRow]:
    """The figures of `partnership_summary` a funder reads, section by section, with small numbers suppressed."""
    totals, money, wellbeing, value = summary.totals, summary.money, summary.wellbeing, summary.value_for_money
    referrals = "Referrals received in the period"
    rows = [
        _count(referrals, "Referrals received", totals.received),
        _count(referrals, "Referrals accepted", totals.accepted),
        _derived(
            referrals, "Acceptance rate", totals.acceptance_rate, PERCENT, rests_on=(totals.accepted, totals.decided)
        ),
        _derived(
            referrals,
            "Median days from referral to first contact",
            totals.median_days_to_first_contact,
            DAYS,
            rests_on=(totals.contacted,),
        ),
    ]
    for breakdown in summary.breakdowns:
        section = f"Referrals by {breakdown.title}"
        rows += [_count(section, row.label, row.n) for row in breakdown.rows]
    casework = "Casework"
    rows += [
        _count(casework, "Cases closed in the period", totals.closed),
        _count(casework, "Cases open at the end of the period", summary.open_cases),
    ]
    decisions = "Claims and appeals decided (cases closed in the period)"
    for stage in summary.decisions:
        rows += [
            _count(decisions, f"{stage.stage}: decisions", stage.decided),
            _derived(
                decisions,
                f"{stage.stage}: success rate",
                stage.rate,
                PERCENT,
                rests_on=(stage.successful, stage.decided),
            ),
        ]
    gained = "Money gained (cases closed in the period)"
    for label, figures in (("Confirmed", money.confirmed), ("Expected", money.expected)):
        cases = (figures.cases,)
        rows += [
            _count(gained, f"{label}: cases", figures.cases),
            _derived(gained, f"{label}: recurring, annualised", figures.annual, POUNDS, rests_on=cases),
            _derived(gained, f"{label}: one-off", figures.one_off, POUNDS, rests_on=cases),
            _derived(gained, f"{label}: total", figures.total, POUNDS, rests_on=cases),
        ]
    for_money = "Value for money (confirmed gains)"
    rows += [
        ReportRow(for_money, "Funding for the period (prorated by days)", value.funding, POUNDS),
        _derived(
            for_money,
            "Gain per referral received",
            value.gain_per_referral,
            POUNDS,
            rests_on=(money.confirmed.cases, totals.received),
        ),
        _derived(
            for_money,
            "Gain per £1 of funding",
            value.gain_per_pound,
            POUNDS_PER_POUND,
            rests_on=(money.confirmed.cases,),
        ),
    ]
    scores = "Wellbeing (SWEMWBS, cases closed in the period)"
    rows += [
        _count(scores, "Cases scored at start and close", wellbeing.cases),
        _derived(scores, "Average score at start", wellbeing.average_start, SCORE, rests_on=(wellbeing.cases,)),
        _derived(scores, "Average score at close", wellbeing.average_close, SCORE, rests_on=(wellbeing.cases,)),
        _derived(scores, "Average change", wellbeing.average_change, CHANGE, rests_on=(wellbeing.cases,)),
    ]
    return rows


def funder_report_csv_rows(*, partnership, period: Period, rows: list[ReportRow]) -> list[list]:
    """The funder report as CSV rows under FUNDER_CSV_COLUMNS: one figure a line, with its partnership and period.
    Cells are values: hjp.core.csv_export writes numbers as numbers and guards text against formulas."""
    head = [partnership.name, period.start, period.end]
    return [head + [row.section, row.measure, row.csv_value, row.unit] for row in rows]
