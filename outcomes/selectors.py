"""Aggregates for dashboards and reports, computed by the database. No patient details leave here.

Every figure is defined once, in the section "What each figure counts" below, and the managers' dashboard,
the funders' report (and its CSV) and the referrers' monthly digest all count with those definitions, so the
same data gives the same figure everywhere. Counting rules, shown on the pages too:
- referral figures count referrals *submitted* in the period (referrals entered in error are left out);
- outcome figures (decisions, money, wellbeing) count the outcomes of cases *closed* in the period, so each
  case's outcomes are counted once, when they are final;
- a case closed because the patient withdrew their consent counts as closed (and its referral as accepted):
  the case was opened and worked, and its outcomes stay for statistics when its free text is redacted;
- the open caseload is the cases open at the end of the period.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Avg, Count, DecimalField, DurationField, ExpressionWrapper, F, FilteredRelation, Q, QuerySet
from django.db.models import Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from casework.models import Case
from hjp.accounts.models import Funding, Profession
from hjp.core.money import format_money, pennies, plain_money
from outcomes.models import SUCCESSFUL_RESULTS, DecisionOutcome, DecisionResult, DecisionStage, FinancialOutcome
from outcomes.models import WellbeingScore
from referrals.models import DeclineReason, Referral, ReferralStatus, Setting

S = ReferralStatus
Moment = WellbeingScore.Moment
ZERO = Decimal("0.00")
DECIDED_RESULTS = (*SUCCESSFUL_RESULTS, DecisionResult.REFUSED)
DEPRIVATION_DECILES = range(1, 11)


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the installation's time zone."""

    start: date
    end: date

    @classmethod
    def last_twelve_months(cls, end: date) -> "Period":
        """Twelve calendar months to `end`: from the first day of the month eleven months before it."""
        months_back = end.year * 12 + end.month - 1 - 11
        return cls(start=date(months_back // 12, months_back % 12 + 1, 1), end=end)

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        """One calendar month."""
        next_first = date(year + (month == 12), month % 12 + 1, 1)
        return cls(start=date(year, month, 1), end=next_first - timedelta(days=1))

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def ends_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def months(self) -> list[date]:
        """The first day of each calendar month the period touches."""
        first, months = self.start.replace(day=1), []
        while first <= self.end:
            months.append(first)
            first = (first + timedelta(days=31)).replace(day=1)
        return months

    def __str__(self):
        return f"{self.start:%d %b %Y} to {self.end:%d %b %Y}"


def is_small(count: int | None) -> bool:
    """A count from 1 to 4: shown to funders and in digests only as 'fewer than 5'."""
    return count is not None and 0 < count < settings.SMALL_NUMBER_THRESHOLD


def suppress(value: int | None) -> str:
    """Counts from 1 to 4 are shown as 'fewer than 5' wherever funders or digests see them."""
    if value is None:
        return "-"
    if is_small(value):
        return f"fewer than {settings.SMALL_NUMBER_THRESHOLD}"
    return str(value)


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _one_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- What each figure counts: the one definition the dashboard, the funder report and the digest share -------

# Of referrals received: accepted once a case was opened for it (so one cancelled later, when the patient
# withdrew consent, still counts); decided when accepted, declined or redirected; contacted once the advisor
# first reached the patient.
ACCEPTED = Q(case__isnull=False)
DECIDED = ACCEPTED | Q(status__in=[S.DECLINED, S.REDIRECTED])
CONTACTED = Q(case__first_contact_at__isnull=False)
# Of decisions on claims and appeals: won when awarded or increased, out of those decided (won or refused;
# a withdrawn claim was never decided).
DECISION_WON = Q(result__in=SUCCESSFUL_RESULTS)
DECISION_DECIDED = Q(result__in=DECIDED_RESULTS)


def _scoped(prefix: str, scope: dict) -> dict:
    return {f"{prefix}{field}": value for field, value in scope.items()}


def referrals_received(*, period: Period, **scope) -> QuerySet[Referral]:
    """Referrals submitted in the period, less those entered in error. `scope` says whose: `partnership=`
    (dashboard, funder report) or `referring_organisation=` (a referring organisation's digest)."""
    return Referral.objects.filter(
        **scope, submitted_at__gte=period.starts_at, submitted_at__lt=period.ends_before
    ).exclude(status=S.ENTERED_IN_ERROR)


def cases_closed(*, period: Period, **scope) -> QuerySet[Case]:
    """Cases closed in the period, whatever the closure reason: a case closed because the patient withdrew
    consent counts (see the module docstring). `scope` as for `referrals_received`, on the case's referral."""
    return Case.objects.filter(
        **_scoped("referral__", scope), closed_at__gte=period.starts_at, closed_at__lt=period.ends_before
    )


def referral_totals(received: QuerySet[Referral]) -> dict:
    """Received, accepted, decided and contacted, and the acceptance rate (accepted of decided), in one query."""
    totals = received.aggregate(
        received=Count("pk"),
        accepted=Count("pk", filter=ACCEPTED),
        decided=Count("pk", filter=DECIDED),
        contacted=Count("pk", filter=CONTACTED),
    )
    totals["acceptance_rate"] = _percent(totals["accepted"], totals["decided"])
    return totals


def _counted_by(queryset, *fields) -> list[dict]:
    return list(queryset.values(*fields).annotate(n=Count("pk")).order_by("-n", *fields))


def _median_days_to_first_contact(received, contacted: int) -> Decimal | None:
    """The median of (first contact - submission) over `contacted` referrals, in days. The database orders
    the waits; only the one or two in the middle are fetched, which works the same on every backend."""
    if not contacted:
        return None
    waits = (
        received.filter(case__first_contact_at__isnull=False)
        .annotate(wait=ExpressionWrapper(F("case__first_contact_at") - F("submitted_at"), output_field=DurationField()))
        .order_by("wait")
        .values_list("wait", flat=True)
    )
    middle = list(waits[(contacted - 1) // 2 : contacted // 2 + 1])
    median = sum(middle, timedelta()) / len(middle)
    return _one_decimal(median.total_seconds() / 86400)


def referral_summary(*, partnership, period: Period) -> dict:
    """Referrals submitted in the period: totals, breakdowns (declines by their coded reason among them),
    reach and the month series.

    A referral counts as accepted once a case was opened for it (so one later cancelled on consent withdrawal
    still counts); decided means accepted, declined or redirected."""
    received = referrals_received(period=period, partnership=partnership)
    totals = referral_totals(received)
    totals["median_days_to_first_contact"] = _median_days_to_first_contact(received, totals["contacted"])

    teams = _counted_by(received, "referring_team_id", "referring_team__name", "referring_team__organisation__name")
    deciles = {row["patient__deprivation_decile"]: row["n"]
               for row in _counted_by(received, "patient__deprivation_decile")}
    declined = {row["decline__decline_reason"] or "": row["n"] for row in _counted_by(
        received.filter(status=S.DECLINED).annotate(
            decline=FilteredRelation("status_changes", condition=Q(status_changes__to_status=S.DECLINED))
        ),
        "decline__decline_reason",
    )}
    per_month = {
        timezone.localtime(row["month"]).date(): row["n"]
        for row in received.annotate(month=TruncMonth("submitted_at")).values("month").annotate(n=Count("pk"))
        .order_by()
    }
    return {
        "totals": totals,
        "breakdowns": [
            {"title": "referring organisation", "rows": [
                {"label": row["referring_organisation__name"], "n": row["n"]}
                for row in _counted_by(received, "referring_organisation__name")
            ]},
            {"title": "team or ward", "rows": [
                {
                    "label": (
                        f"{row['referring_team__name']} ({row['referring_team__organisation__name']})"
                        if row["referring_team_id"] else "No team or ward given"
                    ),
                    "n": row["n"],
                }
                for row in teams
            ]},
            {"title": "referrer's profession", "rows": [
                {"label": Profession(row["referrer_profession"]).label, "n": row["n"]}
                for row in _counted_by(received, "referrer_profession")
            ]},
            {"title": "setting", "rows": [
                {"label": Setting(row["setting"]).label if row["setting"] else "Not recorded", "n": row["n"]}
                for row in _counted_by(received, "setting")
            ]},
            {"title": "deprivation decile (1 = most deprived)", "rows": [
                {"label": str(decile), "n": deciles.get(decile, 0)} for decile in DEPRIVATION_DECILES
            ] + [{"label": "Not known", "n": deciles.get(None, 0)}]},
            {"title": "reason for declining", "rows": [
                {"label": reason.label, "n": declined.get(reason, 0)} for reason in DeclineReason
            ] + ([{"label": "Not recorded", "n": declined[""]}] if declined.get("") else [])},
        ],
        "by_month": [{"month": month, "n": per_month.get(month, 0)} for month in period.months()],
    }


def open_caseload(*, partnership, period: Period) -> list[dict]:
    """Cases open at the end of the period, per advisor (advisors are staff: their names may be shown)."""
    open_at_end = Case.objects.filter(referral__partnership=partnership, opened_at__lt=period.ends_before).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gte=period.ends_before)
    )
    return [
        {"advisor": row["advisor__full_name"] or row["advisor__email"], "n": row["n"]}
        for row in open_at_end.values("advisor_id", "advisor__full_name", "advisor__email")
        .annotate(n=Count("pk"))
        .order_by("advisor__full_name", "advisor__email")
    ]


def closed_case_summary(*, partnership, period: Period) -> dict:
    """Cases closed in the period, and the SWEMWBS change over those with a score at start and at close."""
    scored = Q(start_score__total__isnull=False, close_score__total__isnull=False)
    figures = (
        cases_closed(period=period, partnership=partnership)
        .annotate(
            start_score=FilteredRelation("wellbeing_scores", condition=Q(wellbeing_scores__moment=Moment.START)),
            close_score=FilteredRelation("wellbeing_scores", condition=Q(wellbeing_scores__moment=Moment.CLOSE)),
        )
        .aggregate(
            closed=Count("pk"),
            scored=Count("pk", filter=scored),
            start=Avg("start_score__total", filter=scored),
            close=Avg("close_score__total", filter=scored),
            change=Avg(F("close_score__total") - F("start_score__total"), filter=scored),
        )
    )
    return {
        "closed": figures["closed"],
        "wellbeing": {
            "cases": figures["scored"],
            "average_start": _one_decimal(figures["start"]),
            "average_close": _one_decimal(figures["close"]),
            "average_change": _one_decimal(figures["change"]),
        },
    }


def decision_success(closed: QuerySet[Case]) -> list[dict]:
    """Per decision stage, then all stages: decisions won (awarded or increased) out of decided (won or
    refused; withdrawn claims are left out), on the `closed` cases (`cases_closed`)."""
    rows = {
        row["stage"]: row
        for row in DecisionOutcome.objects.filter(issue__case__in=closed)
        .values("stage")
        .annotate(successful=Count("pk", filter=DECISION_WON), decided=Count("pk", filter=DECISION_DECIDED))
        .order_by()
    }
    stages = [
        {
            "stage": stage.label,
            "successful": rows.get(stage, {}).get("successful", 0),
            "decided": rows.get(stage, {}).get("decided", 0),
        }
        for stage in DecisionStage
    ]
    stages.append({
        "stage": "All claims and appeals",
        "successful": sum(s["successful"] for s in stages),
        "decided": sum(s["decided"] for s in stages),
    })
    for stage in stages:
        stage["rate"] = _percent(stage["successful"], stage["decided"])
    return stages


_POUNDS = DecimalField(max_digits=14, decimal_places=2)
_GAIN = ExpressionWrapper(F("annual_amount") + F("one_off_amount"), output_field=_POUNDS)


def _money_sum(expression, confirmed: bool):
    return Coalesce(Sum(expression, filter=Q(confirmed=confirmed)), ZERO, output_field=_POUNDS)


def money_totals(closed: QuerySet[Case]) -> dict:
    """Money gained on the `closed` cases (`cases_closed`): recurring amounts annualised plus one-off
    amounts, confirmed and expected apart, each with the number of cases it rests on; to the penny."""
    figures = FinancialOutcome.objects.filter(issue__case__in=closed).aggregate(
        confirmed_annual=_money_sum("annual_amount", True),
        confirmed_one_off=_money_sum("one_off_amount", True),
        confirmed_cases=Count("issue__case", distinct=True, filter=Q(confirmed=True)),
        expected_annual=_money_sum("annual_amount", False),
        expected_one_off=_money_sum("one_off_amount", False),
        expected_cases=Count("issue__case", distinct=True, filter=Q(confirmed=False)),
    )
    money = {}
    for kind in ("confirmed", "expected"):
        annual, one_off = pennies(figures[f"{kind}_annual"]), pennies(figures[f"{kind}_one_off"])
        money[kind] = {"annual": annual, "one_off": one_off, "total": annual + one_off,
                       "cases": figures[f"{kind}_cases"]}
    return money


def money_gained(*, partnership, period: Period) -> dict:
    """`money_totals` of the partnership's cases closed in the period, and the month series."""
    closed = cases_closed(period=period, partnership=partnership)
    money = money_totals(closed)
    outcomes = FinancialOutcome.objects.filter(issue__case__in=closed)
    per_month = {
        timezone.localtime(row["month"]).date(): row
        for row in outcomes.annotate(month=TruncMonth("issue__case__closed_at"))
        .values("month")
        .annotate(confirmed_gain=_money_sum(_GAIN, True), expected_gain=_money_sum(_GAIN, False))
        .order_by()
    }
    money["by_month"] = [
        {
            "month": month,
            "confirmed": pennies(per_month.get(month, {}).get("confirmed_gain")),
            "expected": pennies(per_month.get(month, {}).get("expected_gain")),
        }
        for month in period.months()
    ]
    return money


def funding_in_period(*, partnership, period: Period) -> Decimal:
    """The partnership's funding for the period: each funding that overlaps it, prorated by the days of
    its own period that fall inside this one (a handful of rows, so prorated here)."""
    total = ZERO
    for funding in Funding.objects.filter(
        partnership=partnership, period_start__lte=period.end, period_end__gte=period.start
    ).only("amount", "period_start", "period_end"):
        overlap = (min(funding.period_end, period.end) - max(funding.period_start, period.start)).days + 1
        funded_days = (funding.period_end - funding.period_start).days + 1
        total += funding.amount * overlap / funded_days
    return pennies(total)


def partnership_summary(*, partnership, period: Period) -> dict:
    """Every figure of the managers' dashboard for one partnership and period, in a fixed number of queries."""
    summary = referral_summary(partnership=partnership, period=period)
    closed = closed_case_summary(partnership=partnership, period=period)
    money = money_gained(partnership=partnership, period=period)
    funding = funding_in_period(partnership=partnership, period=period)
    confirmed = money["confirmed"]["total"]
    received = summary["totals"]["received"]
    summary["totals"]["closed"] = closed["closed"]
    summary["months"] = [
        {"month": referrals["month"], "referrals": referrals["n"], "confirmed": gains["confirmed"],
         "expected": gains["expected"]}
        for referrals, gains in zip(summary.pop("by_month"), money.pop("by_month"), strict=True)
    ]
    summary.update(
        caseload=open_caseload(partnership=partnership, period=period),
        decisions=decision_success(cases_closed(period=period, partnership=partnership)),
        money=money,
        value_for_money={
            "funding": funding,
            "gain_per_referral": pennies(confirmed / received) if received else None,
            "gain_per_pound": pennies(confirmed / funding) if funding else None,
        },
        wellbeing=closed["wellbeing"],
    )
    return summary


def chart_data(summary: dict) -> dict:
    """The month series for the dashboard charts, ready for json_script (money in pounds, as numbers)."""
    months = summary["months"]
    return {
        "months": [row["month"].strftime("%b %Y") for row in months],
        "referrals": [row["referrals"] for row in months],
        "confirmed": [float(row["confirmed"]) for row in months],
        "expected": [float(row["expected"]) for row in months],
    }


# --- the funder report: the same figures, small numbers suppressed ------------------------------------------

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
            return suppress(self.value) if self.unit == COUNT else "suppressed"
        return "not available" if self.value is None else _FORMATS[self.unit](self.value)

    @property
    def csv_value(self) -> str:
        if self.suppressed:
            return self.display
        if self.unit in (POUNDS, POUNDS_PER_POUND):
            return plain_money(self.value)
        return "" if self.value is None else str(self.value)


def _count(section: str, measure: str, n: int) -> ReportRow:
    return ReportRow(section, measure, n, COUNT, suppressed=is_small(n))


def _derived(section: str, measure: str, value, unit: str, *, rests_on: tuple[int, ...]) -> ReportRow:
    return ReportRow(section, measure, value, unit, suppressed=any(is_small(n) for n in rests_on))


def funder_report_rows(summary: dict) -> list[ReportRow]:
    """The figures of `partnership_summary` a funder reads, section by section, with small numbers suppressed.
    Advisors' names are left out: funders see the total open caseload only."""
    totals, money, wellbeing = summary["totals"], summary["money"], summary["wellbeing"]
    confirmed_cases = money["confirmed"]["cases"]
    referrals = "Referrals received in the period"
    rows = [
        _count(referrals, "Referrals received", totals["received"]),
        _count(referrals, "Referrals accepted", totals["accepted"]),
        _derived(referrals, "Acceptance rate", totals["acceptance_rate"], PERCENT,
                 rests_on=(totals["accepted"], totals["decided"])),
        _derived(referrals, "Median days from referral to first contact", totals["median_days_to_first_contact"], DAYS,
                 rests_on=(totals["contacted"],)),
    ]
    for breakdown in summary["breakdowns"]:
        section = f"Referrals by {breakdown['title']}"
        rows += [_count(section, row["label"], row["n"]) for row in breakdown["rows"]]
    casework = "Casework"
    rows += [
        _count(casework, "Cases closed in the period", totals["closed"]),
        _count(casework, "Cases open at the end of the period", sum(row["n"] for row in summary["caseload"])),
    ]
    decisions = "Claims and appeals decided (cases closed in the period)"
    for stage in summary["decisions"]:
        rows += [
            _count(decisions, f"{stage['stage']}: decisions", stage["decided"]),
            _derived(decisions, f"{stage['stage']}: success rate", stage["rate"], PERCENT,
                     rests_on=(stage["successful"], stage["decided"])),
        ]
    gained = "Money gained (cases closed in the period)"
    for kind in ("confirmed", "expected"):
        figures, label = money[kind], kind.capitalize()
        cases = (figures["cases"],)
        rows += [
            _count(gained, f"{label}: cases", figures["cases"]),
            _derived(gained, f"{label}: recurring, annualised", figures["annual"], POUNDS, rests_on=cases),
            _derived(gained, f"{label}: one-off", figures["one_off"], POUNDS, rests_on=cases),
            _derived(gained, f"{label}: total", figures["total"], POUNDS, rests_on=cases),
        ]
    value = "Value for money (confirmed gains)"
    rows += [
        ReportRow(value, "Funding for the period (prorated by days)", summary["value_for_money"]["funding"], POUNDS),
        _derived(value, "Gain per referral received", summary["value_for_money"]["gain_per_referral"], POUNDS,
                 rests_on=(confirmed_cases, totals["received"])),
        _derived(value, "Gain per £1 of funding", summary["value_for_money"]["gain_per_pound"], POUNDS_PER_POUND,
                 rests_on=(confirmed_cases,)),
    ]
    scores = "Wellbeing (SWEMWBS, cases closed in the period)"
    rows += [
        _count(scores, "Cases scored at start and close", wellbeing["cases"]),
        _derived(scores, "Average score at start", wellbeing["average_start"], SCORE, rests_on=(wellbeing["cases"],)),
        _derived(scores, "Average score at close", wellbeing["average_close"], SCORE, rests_on=(wellbeing["cases"],)),
        _derived(scores, "Average change", wellbeing["average_change"], CHANGE, rests_on=(wellbeing["cases"],)),
    ]
    return rows


def _csv_text(text: str) -> str:
    """Text that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def funder_report_csv_rows(*, partnership, period: Period, rows: list[ReportRow]) -> list[list[str]]:
    """The funder report as CSV rows under FUNDER_CSV_COLUMNS: one figure a line, with its partnership and period."""
    head = [_csv_text(partnership.name), period.start.isoformat(), period.end.isoformat()]
    return [head + [_csv_text(row.section), _csv_text(row.measure), row.csv_value, row.unit] for row in rows]
