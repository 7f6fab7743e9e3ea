"""The funders' report and its CSV: the dashboard's figures, section by section, through the one disclosure
method (outcomes.disclosure). Advisors' names are left out: funders see the total open caseload only."""

from dataclasses import dataclass
from decimal import Decimal

from hjp.core.money import format_money, pennies
from outcomes import charts, disclosure
from outcomes.selectors.dashboard import NOT_KNOWN, PartnershipSummary
from outcomes.selectors.figures import Period

COUNT, PERCENT, POUNDS, POUNDS_PER_POUND, DAYS = "count", "percent", "GBP", "GBP per GBP funded", "days"
SCORE, CHANGE, NOTE = "SWEMWBS score", "SWEMWBS points", "note"
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
NOTES = "Notes"


@dataclass(frozen=True)
class ReportRow:
    """One figure of the funder report as published: `value` is already rounded (outcomes.disclosure), and
    `withheld` says what is shown instead of a figure the method keeps back ('fewer than 10', 'not shown')."""

    section: str
    measure: str
    value: int | Decimal | None
    unit: str
    withheld: str = ""

    @property
    def display(self) -> str:
        if self.withheld:
            return self.withheld
        return "not available" if self.value is None else _FORMATS[self.unit](self.value)

    @property
    def csv_value(self) -> int | Decimal | str | None:
        """The figure as a number (money to the penny), so that the spreadsheet can add it up; the disclosure
        method's words where it is withheld; None (an empty cell) where there is none."""
        if self.withheld:
            return self.withheld
        if self.unit in (POUNDS, POUNDS_PER_POUND) and self.value is not None:
            return pennies(self.value)
        return self.value


def _count(section: str, measure: str, n: int) -> ReportRow:
    published = disclosure.rounded(n)
    return ReportRow(section, measure, published, COUNT, withheld="" if published is not None else disclosure.FEWER)


def _shown_or_not(section: str, measure: str, value, unit: str) -> ReportRow:
    return ReportRow(section, measure, value, unit, withheld="" if value is not None else disclosure.NOT_SHOWN)


def _over(section: str, measure: str, value, unit: str, *, cases: int) -> ReportRow:
    """An average or median: not shown over fewer than 10 cases; 'not available' when there is none."""
    if not disclosure.shows(cases):
        return ReportRow(section, measure, None, unit, withheld=disclosure.NOT_SHOWN)
    return ReportRow(section, measure, value, unit)


def _per(amount: Decimal | None, whole) -> Decimal | None:
    return pennies(amount / whole) if amount is not None and whole else None


def funder_report_rows(summary: PartnershipSummary) -> list[ReportRow]:
    """The figures of `partnership_summary` a funder reads, section by section, as published."""
    totals, money, wellbeing, value = summary.totals, summary.money, summary.wellbeing, summary.value_for_money
    referrals = "Referrals received in the period"
    rows = [
        _count(referrals, "Referrals received", totals.received),
        _count(referrals, "Referrals decided (accepted, declined or redirected)", totals.decided),
        _count(referrals, "Referrals accepted", totals.accepted),
        _shown_or_not(referrals, "Acceptance rate", disclosure.rate(totals.accepted, totals.decided), PERCENT),
        _over(
            referrals,
            "Median days from referral to first contact",
            totals.median_days_to_first_contact,
            DAYS,
            cases=totals.contacted,
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
            _count(decisions, f"{stage.stage}: won", stage.successful),
            _shown_or_not(
                decisions, f"{stage.stage}: success rate", disclosure.rate(stage.successful, stage.decided), PERCENT
            ),
        ]
    gained = "Money gained (cases closed in the period)"
    for label, figures in (("Confirmed", money.confirmed), ("Expected", money.expected)):
        rows += [
            _count(gained, f"{label}: cases", figures.cases),
            _shown_or_not(
                gained, f"{label}: recurring, annualised", disclosure.money(figures.annual, figures.cases), POUNDS
            ),
            _shown_or_not(gained, f"{label}: one-off", disclosure.money(figures.one_off, figures.cases), POUNDS),
            _shown_or_not(gained, f"{label}: total", disclosure.money(figures.total, figures.cases), POUNDS),
        ]
    # Worked out from the published figures only, so they tell nothing the rows above do not.
    confirmed = disclosure.money(money.confirmed.total, money.confirmed.cases)
    for_money = "Value for money (confirmed gains)"
    rows += [
        ReportRow(for_money, "Cash funding for the period (prorated by days)", value.funding, POUNDS),
        ReportRow(for_money, "In-kind support for the period (estimated, prorated by days)", value.in_kind, POUNDS),
        _shown_or_not(
            for_money, "Gain per referral received", _per(confirmed, disclosure.rounded(totals.received)), POUNDS
        ),
        _shown_or_not(for_money, "Gain per £1 of cash funding", _per(confirmed, value.funding), POUNDS_PER_POUND),
        _shown_or_not(
            for_money,
            "Gain per £1 of cash and in-kind support",
            _per(confirmed, value.total_support),
            POUNDS_PER_POUND,
        ),
    ]
    rows += deprivation_rows(summary)
    # Funders' own money and their share of it are no one's personal data: shown exactly.
    funders = "Funders and in-kind support (for the period, prorated by days)"
    for funder in value.funders:
        rows += [
            ReportRow(funders, f"{funder.funder}: cash", funder.cash, POUNDS),
            ReportRow(funders, f"{funder.funder}: in kind", funder.in_kind, POUNDS),
            _shown_or_not(funders, f"{funder.funder}: share of all support", funder.share, PERCENT),
        ]
    scores = "Wellbeing (SWEMWBS, cases closed in the period)"
    rows += [
        _count(scores, "Cases scored at start and close", wellbeing.cases),
        _over(scores, "Average score at start", wellbeing.average_start, SCORE, cases=wellbeing.cases),
        _over(scores, "Average score at close", wellbeing.average_close, SCORE, cases=wellbeing.cases),
        _over(scores, "Average change", wellbeing.average_change, CHANGE, cases=wellbeing.cases),
    ]
    if own := summary.patient_reported:
        rows += _patient_reported_rows(own)
    return rows


def _patient_reported_rows(own) -> list[ReportRow]:
    """What patients answered themselves (outcomes.patient_voice), under the same disclosure rules: counts
    rounded, shares worked out from the published counts, averages only over 10 cases or more."""
    scores = "Wellbeing in the patients' own answers (SWEMWBS, cases closed in the period)"
    wellbeing = own.wellbeing
    rows = [
        _count(scores, "Cases with both of the patient's own scores", wellbeing.cases),
        _over(
            scores, "Average of the patient's own score at start", wellbeing.average_start, SCORE, cases=wellbeing.cases
        ),
        _over(
            scores, "Average of the patient's own score at close", wellbeing.average_close, SCORE, cases=wellbeing.cases
        ),
        _over(
            scores, "Average change in the patient's own score", wellbeing.average_change, CHANGE, cases=wellbeing.cases
        ),
    ]
    experience = "The patients' experience survey (cases closed in the period)"
    for question in own.experience:
        rows.append(_count(experience, f"{question.question} Answered", question.answered))
        for label, n in question.answers:
            rows += [
                _count(experience, f"{question.question} {label}", n),
                _shown_or_not(
                    experience, f"{question.question} {label}: share", disclosure.rate(n, question.answered), PERCENT
                ),
            ]
    return rows


DEPRIVATION_SECTION = "Outcomes by deprivation decile (1 = most deprived; cases closed in the period)"


def deprivation_rows(summary: PartnershipSummary) -> list[ReportRow]:
    """Per decile, as published: cases closed, the share with a positive outcome (from the rounded counts), and the
    confirmed money gained (over 10 cases or more). Referrals per decile are in 'Referrals by deprivation decile'."""
    rows = []
    for decile in summary.by_decile:
        name = decile.decile if decile.decile == NOT_KNOWN else f"Decile {decile.decile}"
        rows += [
            _count(DEPRIVATION_SECTION, f"{name}: cases closed", decile.closed),
            _shown_or_not(
                DEPRIVATION_SECTION,
                f"{name}: with a positive outcome",
                disclosure.rate(decile.positive, decile.closed),
                PERCENT,
            ),
            _shown_or_not(
                DEPRIVATION_SECTION,
                f"{name}: money gained, confirmed",
                disclosure.money(decile.money, decile.money_cases),
                POUNDS,
            ),
        ]
    return rows


HEADLINE = ("Referrals received", "Acceptance rate", "Cases closed in the period", "Confirmed: total")


def funder_report_headline(rows: list[ReportRow]) -> list[ReportRow]:
    """The report's headline figures, as its rows publish them (the same rows, not a second computation)."""
    return sorted((row for row in rows if row.measure in HEADLINE), key=lambda row: HEADLINE.index(row.measure))


def funder_report_charts(summary: PartnershipSummary) -> list[tuple[str, str]]:
    """The charts of the funder report as a PDF (outcomes.charts), each with its title, drawn from published figures
    only: each count through `disclosure.rounded`, as the report's rows are, and a count kept back drawn as
    "fewer than 10"."""
    by_month, by_decile = "Referrals received per month", "Referrals and cases closed by deprivation decile"
    return [
        (
            by_month,
            charts.line_chart(
                title=by_month,
                description="Referrals received each month of the period, rounded as the report's figures are.",
                labels=[month.month.strftime("%b %y") for month in summary.months],
                series=[charts.Series("Referrals", tuple(disclosure.rounded(m.referrals) for m in summary.months))],
                withheld_text=disclosure.FEWER,
            ),
        ),
        (
            by_decile,
            charts.bar_chart(
                title=by_decile,
                description="Per IMD decile (1 = most deprived, then not known): referrals received and cases "
                "closed in the period, rounded as the report's figures are.",
                labels=[row.decile for row in summary.by_decile],
                series=[
                    charts.Series(
                        "Referrals received", tuple(disclosure.rounded(row.referrals) for row in summary.by_decile)
                    ),
                    charts.Series("Cases closed", tuple(disclosure.rounded(row.closed) for row in summary.by_decile)),
                ],
                withheld_text=disclosure.FEWER,
            ),
        ),
    ]


def funder_report_csv_rows(*, partnership, period: Period, rows: list[ReportRow]) -> list[list]:
    """The funder report as CSV rows under FUNDER_CSV_COLUMNS: one figure a line, with its partnership and period,
    and last the disclosure method the figures went through. Cells are values: hjp.core.csv_export writes numbers
    as numbers and guards text against formulas."""
    head = [partnership.name, period.start, period.end]
    return [head + [row.section, row.measure, row.csv_value, row.unit] for row in rows] + [
        head + [NOTES, "Disclosure control", disclosure.METHOD, NOTE]
    ]
