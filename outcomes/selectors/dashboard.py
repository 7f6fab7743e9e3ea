"""The managers' dashboard: every figure for one partnership and period, in a fixed number of queries,
counted with the shared definitions (outcomes.selectors.figures). Managers see exact figures; advisors'
names may be shown (they are staff), never patient details."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, DateField, F, Q, Sum, Value, When

from casework.models import AdviceProvider
from hjp.accounts.models import Funding, InKindSupport, Organisation, Profession, Team
from hjp.core.money import pennies
from outcomes import running_figures as rf
from outcomes.models import CaseloadCell, DecisionStage, ExperienceAnswer, FigureCell
from outcomes.running_figures import MONTHLY_MEASURES
from outcomes.selectors.figures import (
    ALL_STAGES,
    ONWARD_RESULTS,
    ZERO,
    DecisionSuccess,
    MoneyGain,
    MoneyTotals,
    Period,
    ReferralTotals,
    one_decimal,
    percent,
)
from referrals.models import DeclineReason, Setting

DEPRIVATION_DECILES = range(1, 11)
NOT_KNOWN = "Not known"


@dataclass(frozen=True)
class Totals(ReferralTotals):
    """The headline figures: the referral totals, the median wait to first contact and the cases closed."""

    median_days_to_first_contact: Decimal | None
    closed: int


@dataclass(frozen=True)
class BreakdownRow:
    """One line of a breakdown: what, and how many referrals."""

    label: str
    n: int


@dataclass(frozen=True)
class Breakdown:
    """Referrals received by one characteristic (`title`, as in 'Referrals by <title>')."""

    title: str
    rows: tuple[BreakdownRow, ...]


@dataclass(frozen=True)
class AdvisorCaseload:
    advisor: str
    n: int


@dataclass(frozen=True)
class Month:
    """Referrals received in the month, and money gained on cases closed in it."""

    month: date
    referrals: int
    confirmed: Decimal
    expected: Decimal


@dataclass(frozen=True)
class FunderShare:
    """What one funder or in-kind supporter gave for the period (prorated by days), and its share of all the
    support, cash and in kind together, in whole percent."""

    funder: str
    cash: Decimal
    in_kind: Decimal
    share: int | None

    @property
    def total(self) -> Decimal:
        return self.cash + self.in_kind


@dataclass(frozen=True)
class Support:
    """The partnership's cash funding and in-kind support for a period, prorated by days, and who gave it."""

    cash: Decimal
    in_kind: Decimal
    funders: tuple[FunderShare, ...]

    @property
    def total(self) -> Decimal:
        return self.cash + self.in_kind


@dataclass(frozen=True)
class ValueForMoney:
    """Confirmed gains against the cash funding for the period, and against cash and in-kind support together;
    each funder's share."""

    funding: Decimal
    gain_per_referral: Decimal | None
    gain_per_pound: Decimal | None
    in_kind: Decimal = ZERO
    gain_per_pound_with_in_kind: Decimal | None = None
    funders: tuple[FunderShare, ...] = ()

    @property
    def total_support(self) -> Decimal:
        return self.funding + self.in_kind


@dataclass(frozen=True)
class Wellbeing:
    """SWEMWBS over the cases closed with a score at the start and at the close."""

    cases: int
    average_start: Decimal | None
    average_close: Decimal | None
    average_change: Decimal | None


@dataclass(frozen=True)
class ExperienceRow:
    """One question of the patients' experience survey: how many answered yes, partly and no."""

    question: str
    answers: tuple[tuple[str, int], ...]

    @property
    def answered(self) -> int:
        return sum(n for _, n in self.answers)


@dataclass(frozen=True)
class PatientReported:
    """What patients said themselves through their own link (outcomes.patient_voice), over the cases closed in
    the period: SWEMWBS where both scores are their own, and the experience survey."""

    wellbeing: Wellbeing
    experience: tuple[ExperienceRow, ...]


@dataclass(frozen=True)
class OnwardRow:
    """Onward referrals made to one provider: how many, and how many of them have each result (in the order of
    outcomes.selectors.figures.ONWARD_RESULTS)."""

    provider: str
    made: int
    results: tuple[int, ...]


@dataclass(frozen=True)
class DecileOutcomes:
    """One deprivation decile ("1" to "10", or "Not known"): referrals received in the period, and of the cases
    closed in it, how many, how many with a positive outcome (outcomes.running_figures.positive_outcome) and the
    confirmed money gained, over `money_cases` cases."""

    decile: str
    referrals: int
    closed: int
    positive: int
    money: Decimal
    money_cases: int

    @property
    def positive_rate(self) -> int | None:
        return percent(self.positive, self.closed)


@dataclass(frozen=True)
class PartnershipSummary:
    totals: Totals
    breakdowns: tuple[Breakdown, ...]
    months: tuple[Month, ...]
    caseload: tuple[AdvisorCaseload, ...]
    decisions: tuple[DecisionSuccess, ...]
    money: MoneyTotals
    value_for_money: ValueForMoney
    wellbeing: Wellbeing
    onward: tuple[OnwardRow, ...] = ()
    patient_reported: PatientReported | None = None
    by_decile: tuple[DecileOutcomes, ...] = ()

    @property
    def all_decisions(self) -> DecisionSuccess:
        """The decisions of every stage together."""
        return self.decisions[-1]

    @property
    def open_cases(self) -> int:
        return sum(row.n for row in self.caseload)


def _median_days(waits: dict[int, int]) -> Decimal | None:
    """The median wait in days, from the histogram of waits in whole hours (hours -> how many): the middle
    wait, or the mean of the middle two."""
    contacted = sum(waits.values())
    if not contacted:
        return None
    wanted, middle, seen = ((contacted - 1) // 2, contacted // 2), [], 0
    for hours in sorted(waits):
        for index in wanted:
            if seen <= index < seen + waits[hours]:
                middle.append(hours)
        seen += waits[hours]
    return one_decimal(Decimal(sum(middle)) / len(middle) / 24)


def _breakdown(title: str, rows) -> Breakdown:
    return Breakdown(title=title, rows=tuple(BreakdownRow(label=label, n=n) for label, n in rows))


class _Cells:
    """The running totals of one partnership over a period's months (outcomes.running_figures), read in one
    query: `n(measure, key)` and `amount(measure, key)` over the whole period, `monthly(...)` month by month."""

    def __init__(self, *, partnership, period: Period):
        bucket = Case(When(measure__in=MONTHLY_MEASURES, then=F("month")), default=None, output_field=DateField())
        self.totals, self.months = defaultdict(lambda: [0, ZERO]), defaultdict(lambda: [0, ZERO])
        for row in (
            FigureCell.objects.filter(partnership_id=partnership.pk, month__gte=period.start, month__lte=period.end)
            .annotate(bucket=bucket)
            .values("measure", "key", "bucket")
            .annotate(n=Sum("n"), amount=Sum("amount"))
            .order_by()
        ):
            for totals in (
                self.totals[row["measure"], row["key"]],
                self.months[row["measure"], row["key"], row["bucket"]],
            ):
                totals[0] += row["n"]
                totals[1] += pennies(row["amount"])

    def n(self, measure: str, key="") -> int:
        return self.totals[measure, str(key)][0] if (measure, str(key)) in self.totals else 0

    def amount(self, measure: str, key="") -> Decimal:
        return self.totals[measure, str(key)][1] if (measure, str(key)) in self.totals else ZERO

    def keyed(self, measure: str) -> dict[str, int]:
        """Every key of `measure` that counts something in the period, with its count (a cell can come back to
        zero: a referral counted, then entered in error)."""
        return {key: n for (name, key), (n, _) in self.totals.items() if name == measure and n}

    def monthly(self, measure: str, key: str, month: date) -> tuple[int, Decimal]:
        return tuple(self.months.get((measure, key, month), (0, ZERO)))


_ORGANISATION_ROW, _TEAM_ROW = "organisation", "team"


def referral_breakdowns(cells: _Cells, *, partnership) -> tuple[Breakdown, ...]:
    """Referrals received by organisation, team, profession, setting, deprivation decile and, among those
    declined, the coded reason for declining.

    Every table lists the same rows whatever the period holds, in a fixed order: each health organisation of
    the partnership and its teams (and any other that referred), every profession, setting, decile and reason,
    zeros included. A row that appeared only when it had referrals, or an order by size, would tell a reader
    more than its rounded count does (outcomes.disclosure)."""
    by_organisation = {int(key): n for key, n in cells.keyed(rf.ORGANISATION).items()}
    by_team = cells.keyed(rf.TEAM)
    # The organisations and the teams, in one query: (kind, pk, name, the team's organisation or "").
    organisation_rows = (
        Organisation.objects.filter(Q(health_partnerships=partnership) | Q(pk__in=list(by_organisation)))
        .order_by()
        .values_list(Value(_ORGANISATION_ROW), "pk", "name", Value(""))
    )
    team_rows = (
        Team.objects.filter(
            Q(organisation__health_partnerships=partnership) | Q(pk__in=[int(key) for key in by_team if key])
        )
        .order_by()
        .values_list(Value(_TEAM_ROW), "pk", "name", "organisation__name")
    )
    organisations = defaultdict(int)
    teams = {}
    for kind, pk, name, organisation in organisation_rows.union(team_rows).order_by():  # UNION: each row once
        if kind == _ORGANISATION_ROW:
            organisations[name] += by_organisation.get(pk, 0)
        else:
            teams[organisation, name, pk] = by_team.get(str(pk), 0)
    return (
        _breakdown("referring organisation", sorted(organisations.items())),
        _breakdown(
            "team or ward",
            [(f"{name} ({organisation})", n) for (organisation, name, _), n in sorted(teams.items())]
            + [("No team or ward given", cells.n(rf.TEAM, ""))],
        ),
        _breakdown(
            "referrer's profession",
            [(profession.label, cells.n(rf.PROFESSION, profession)) for profession in Profession],
        ),
        _breakdown(
            "setting",
            [(setting.label, cells.n(rf.SETTING, setting)) for setting in Setting]
            + [("Not recorded", cells.n(rf.SETTING, ""))],
        ),
        _breakdown(
            "deprivation decile (1 = most deprived)",
            [(str(decile), cells.n(rf.DECILE, decile)) for decile in DEPRIVATION_DECILES]
            + [(NOT_KNOWN, cells.n(rf.DECILE, ""))],
        ),
        _breakdown(
            "reason for declining",
            [(reason.label, cells.n(rf.DECLINED, reason)) for reason in DeclineReason]
            + [("Not recorded", cells.n(rf.DECLINED, ""))],
        ),
    )


def outcomes_by_decile(cells: _Cells) -> tuple[DecileOutcomes, ...]:
    """Every decile, 1 to 10, then "Not known", zeros included (as `referral_breakdowns`, for the same reason)."""
    return tuple(
        DecileOutcomes(
            decile=label,
            referrals=cells.n(rf.DECILE, key),
            closed=cells.n(rf.DECILE_CLOSED, key),
            positive=cells.n(rf.DECILE_POSITIVE, key),
            money=cells.amount(rf.DECILE_MONEY, key),
            money_cases=cells.n(rf.DECILE_MONEY, key),
        )
        for label, key in [*((str(d), str(d)) for d in DEPRIVATION_DECILES), (NOT_KNOWN, "")]
    )


def open_caseload(*, partnership, period: Period) -> tuple[AdvisorCaseload, ...]:
    """Cases open at the end of the period, per advisor (advisors are staff: their names may be shown): the
    cases opened up to the period's last month less those closed by then, from the running totals."""
    return tuple(
        AdvisorCaseload(advisor=row["advisor__full_name"] or row["advisor__email"], n=row["n"])
        for row in CaseloadCell.objects.filter(partnership_id=partnership.pk, month__lte=period.end)
        .values("advisor_id", "advisor__full_name", "advisor__email")
        .annotate(n=Sum("n"))
        .filter(n__gt=0)
        .order_by("advisor__full_name", "advisor__email")
    )


def _wellbeing(cells: _Cells, measures=(rf.SCORED, rf.SCORE_START, rf.SCORE_CLOSE)) -> Wellbeing:
    """The SWEMWBS change over the cases closed with a score at the start and at the close."""
    scored_measure, start_measure, close_measure = measures
    scored = cells.n(scored_measure)

    def average(total: int) -> Decimal | None:
        return one_decimal(Decimal(total) / scored) if scored else None

    start, close = cells.n(start_measure), cells.n(close_measure)
    return Wellbeing(
        cases=scored, average_start=average(start), average_close=average(close), average_change=average(close - start)
    )


EXPERIENCE_QUESTIONS = (
    (rf.EXPERIENCE_EASY, "Was it easy to get help?"),
    (rf.EXPERIENCE_DIFFERENCE, "Did the help make a difference?"),
)


def _patient_reported(cells: _Cells) -> PatientReported:
    return PatientReported(
        wellbeing=_wellbeing(cells, (rf.SELF_SCORED, rf.SELF_START, rf.SELF_CLOSE)),
        experience=tuple(
            ExperienceRow(
                question=question,
                answers=tuple((answer.label, cells.n(measure, answer)) for answer in ExperienceAnswer),
            )
            for measure, question in EXPERIENCE_QUESTIONS
        ),
    )


def _decisions(cells: _Cells) -> list[DecisionSuccess]:
    stages = [
        DecisionSuccess(stage=stage.label, successful=cells.n(rf.WON, stage), decided=cells.n(rf.DECISIONS, stage))
        for stage in DecisionStage
    ]
    stages.append(
        DecisionSuccess(
            stage=ALL_STAGES, successful=sum(s.successful for s in stages), decided=sum(s.decided for s in stages)
        )
    )
    return stages


def _money(cells: _Cells) -> MoneyTotals:
    def gain(kind: str) -> MoneyGain:
        annual, one_off = cells.amount(rf.ANNUAL, kind), cells.amount(rf.ONE_OFF, kind)
        return MoneyGain(annual=annual, one_off=one_off, total=annual + one_off, cases=cells.n(rf.MONEY_CASES, kind))

    return MoneyTotals(confirmed=gain(rf.CONFIRMED), expected=gain(rf.EXPECTED))


def _months(cells: _Cells, period: Period) -> tuple[Month, ...]:
    """Per month of the period: referrals received, and money gained on the cases closed in it."""

    def gain(kind: str, month: date) -> Decimal:
        return cells.monthly(rf.ANNUAL, kind, month)[1] + cells.monthly(rf.ONE_OFF, kind, month)[1]

    return tuple(
        Month(
            month=month,
            referrals=cells.monthly(rf.RECEIVED, "", month)[0],
            confirmed=gain(rf.CONFIRMED, month),
            expected=gain(rf.EXPECTED, month),
        )
        for month in period.months()
    )


_CASH, _IN_KIND = "cash", "in_kind"


def _prorated(amount: Decimal, start: date, end: date, period: Period) -> Decimal:
    """The part of `amount`, given for `start` to `end`, that falls in `period`, by days."""
    overlap = (min(end, period.end) - max(start, period.start)).days + 1
    return amount * overlap / ((end - start).days + 1)


def support_in_period(*, partnership, period: Period) -> Support:
    """The partnership's cash funding and in-kind support for the period: each funding and each in-kind support
    that overlaps it, prorated by the days of its own period that fall inside this one, in one query (a handful
    of rows, so prorated here). Funders are matched by name: one that gives money and a room is one funder."""
    overlapping = {"partnership": partnership, "period_start__lte": period.end, "period_end__gte": period.start}
    cash = (
        Funding.objects.filter(**overlapping)
        .order_by()
        .values_list(Value(_CASH), "funder", "amount", "period_start", "period_end")
    )
    in_kind = (
        InKindSupport.objects.filter(**overlapping)
        .order_by()
        .values_list(Value(_IN_KIND), "provider", "estimated_value", "period_start", "period_end")
    )
    given = defaultdict(lambda: {_CASH: ZERO, _IN_KIND: ZERO})
    for kind, funder, amount, start, end in cash.union(in_kind, all=True).order_by():
        given[funder.strip()][kind] += _prorated(amount, start, end, period)
    totals = {kind: pennies(sum((row[kind] for row in given.values()), ZERO)) for kind in (_CASH, _IN_KIND)}
    whole = totals[_CASH] + totals[_IN_KIND]
    funders = []
    for funder, row in sorted(given.items(), key=lambda item: (-(item[1][_CASH] + item[1][_IN_KIND]), item[0])):
        cash_part, in_kind_part = pennies(row[_CASH]), pennies(row[_IN_KIND])
        funders.append(
            FunderShare(
                funder=funder, cash=cash_part, in_kind=in_kind_part, share=percent(cash_part + in_kind_part, whole)
            )
        )
    return Support(cash=totals[_CASH], in_kind=totals[_IN_KIND], funders=tuple(funders))


def value_for_money(*, confirmed: Decimal, received: int, support: Support) -> ValueForMoney:
    """The one rule for value for money: confirmed gains per referral received, per pound of cash funding, and
    per pound of cash and in-kind support together (none where there is nothing to divide by)."""
    return ValueForMoney(
        funding=support.cash,
        gain_per_referral=pennies(confirmed / received) if received else None,
        gain_per_pound=pennies(confirmed / support.cash) if support.cash else None,
        in_kind=support.in_kind,
        gain_per_pound_with_in_kind=pennies(confirmed / support.total) if support.total else None,
        funders=support.funders,
    )


def onward_rows(counts: dict[tuple[int, str], int]) -> tuple[OnwardRow, ...]:
    """Rows by provider from counts by (provider id, result), the most used first; the providers' names in one
    query, made only when there is something to name."""
    names = (
        dict(AdviceProvider.objects.filter(pk__in={pk for pk, _ in counts}).values_list("pk", "name")) if counts else {}
    )
    rows = []
    for provider_id, name in names.items():
        results = tuple(counts.get((provider_id, result), 0) for result, _ in ONWARD_RESULTS)
        rows.append(OnwardRow(provider=name, made=sum(results), results=results))
    return tuple(sorted(rows, key=lambda row: (-row.made, row.provider)))


def _onward(cells: _Cells) -> tuple[OnwardRow, ...]:
    counts = {}
    for key, n in cells.keyed(rf.ONWARD).items():
        provider_id, result = key.split(":", 1)
        counts[int(provider_id), result] = n
    return onward_rows(counts)


def partnership_summary(*, partnership, period: Period) -> PartnershipSummary:
    """Every figure of the managers' dashboard for one partnership and period (whole calendar months), in a
    fixed number of queries whatever the number of referrals: read from the running totals
    (outcomes.running_figures), after counting any referral of the partnership still pending.

    A referral counts as accepted once a case was opened for it (so one later cancelled on consent withdrawal
    still counts); decided means accepted, declined or redirected."""
    if period.start.day != 1 or (period.end + timedelta(days=1)).day != 1:
        raise ValueError(f"The figures cover whole calendar months, not {period}.")
    if rf.is_pending(partnership_id=partnership.pk):
        rf.refresh_pending(partnership_id=partnership.pk)
    cells = _Cells(partnership=partnership, period=period)
    counts = ReferralTotals(
        received=cells.n(rf.RECEIVED),
        accepted=cells.n(rf.ACCEPTED),
        decided=cells.n(rf.DECIDED),
        contacted=cells.n(rf.CONTACTED),
    )
    money = _money(cells)
    return PartnershipSummary(
        totals=Totals(
            received=counts.received,
            accepted=counts.accepted,
            decided=counts.decided,
            contacted=counts.contacted,
            median_days_to_first_contact=_median_days({int(hours): n for hours, n in cells.keyed(rf.WAIT).items()}),
            closed=cells.n(rf.CLOSED),
        ),
        breakdowns=referral_breakdowns(cells, partnership=partnership),
        months=_months(cells, period),
        caseload=open_caseload(partnership=partnership, period=period),
        decisions=tuple(_decisions(cells)),
        money=money,
        value_for_money=value_for_money(
            confirmed=money.confirmed.total,
            received=counts.received,
            support=support_in_period(partnership=partnership, period=period),
        ),
        wellbeing=_wellbeing(cells),
        onward=_onward(cells),
        patient_reported=_patient_reported(cells),
        by_decile=outcomes_by_decile(cells),
    )


def chart_data(summary: PartnershipSummary) -> dict:
    """The month series for the dashboard charts, ready for json_script (money in pounds, as numbers)."""
    return {
        "months": [row.month.strftime("%b %Y") for row in summary.months],
        "referrals": [row.referrals for row in summary.months],
        "confirmed": [float(row.confirmed) for row in summary.months],
        "expected": [float(row.expected) for row in summary.months],
    }
