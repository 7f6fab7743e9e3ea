"""What each figure counts: the one definition the managers' dashboard, the funders' report (and its CSV) and
the referrers' monthly digest share, so the same data gives the same figure everywhere. Computed by the
database; no patient details leave here.

Counting rules, shown on the pages too:
- referral figures count referrals *submitted* in the period (referrals entered in error are left out);
- outcome figures (decisions, money, wellbeing) count the outcomes of cases *closed* in the period, so each
  case's outcomes are counted once, when they are final;
- a case closed because the patient withdrew their consent counts as closed (and its referral as accepted):
  the case was opened and worked, and its outcomes stay for statistics when its free text is redacted;
- the open caseload is the cases open at the end of the period;
- the median wait to first contact (dashboard, funder report) is the median of the waits rounded to the nearest
  hour (half an hour up), in days to one decimal;
- onward referrals count those *made* in the period (at triage or during a case), by provider, each with what
  has become of it so far (`onward_result`).

The dashboard, the funder report, its CSV and the digest read these figures from running totals kept per
partnership and month (outcomes.running_figures: each referral's contribution, worked out by these rules, and the
difference applied when it changes), not from the raw tables; tests/outcomes/test_running_figures.py holds both
to the same figures on a random history. An exact median cannot be kept as a running total, hence the hours.
The querysets below remain the definitions of record: the tests' reference (tests/outcomes/raw_figures.py)
counts the raw tables with them.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from casework.models import Case, OnwardReferral
from hjp.core.dates import format_date
from hjp.core.money import pennies
from outcomes.models import SUCCESSFUL_RESULTS, DecisionOutcome, DecisionResult, DecisionStage, FinancialOutcome
from referrals.models import HandoverOutcome, HandoverState, Referral, ReferralStatus

S = ReferralStatus
ZERO = Decimal("0.00")
DECIDED_RESULTS = (*SUCCESSFUL_RESULTS, DecisionResult.REFUSED)


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the installation's time zone."""

    start: date
    end: date

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
        return f"{format_date(self.start)} to {format_date(self.end)}"


def percent(part: int, whole: int) -> int | None:
    """`part` of `whole` as a whole percent; None when there is no `whole`."""
    return round(100 * part / whole) if whole else None


def one_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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


@dataclass(frozen=True)
class ReferralTotals:
    """Of the referrals received: how many, and how many accepted, decided and contacted."""

    received: int
    accepted: int
    decided: int
    contacted: int

    @property
    def acceptance_rate(self) -> int | None:
        """Accepted of decided, in percent."""
        return percent(self.accepted, self.decided)


def referral_totals(received: QuerySet[Referral]) -> ReferralTotals:
    """Received, accepted, decided and contacted, in one query."""
    return ReferralTotals(
        **received.aggregate(
            received=Count("pk"),
            accepted=Count("pk", filter=ACCEPTED),
            decided=Count("pk", filter=DECIDED),
            contacted=Count("pk", filter=CONTACTED),
        )
    )


@dataclass(frozen=True)
class DecisionSuccess:
    """Decisions on claims and appeals at one stage (or all stages): won out of decided."""

    stage: str
    successful: int
    decided: int

    @property
    def rate(self) -> int | None:
        return percent(self.successful, self.decided)


ALL_STAGES = "All claims and appeals"


def decision_success(closed: QuerySet[Case]) -> list[DecisionSuccess]:
    """Per decision stage, then all stages (ALL_STAGES, last): decisions won (awarded or increased) out of
    decided (won or refused; withdrawn claims are left out), on the `closed` cases (`cases_closed`)."""
    rows = {
        row["stage"]: row
        for row in DecisionOutcome.objects.counted()
        .filter(issue__case__in=closed)
        .values("stage")
        .annotate(successful=Count("pk", filter=DECISION_WON), decided=Count("pk", filter=DECISION_DECIDED))
        .order_by()
    }
    stages = [
        DecisionSuccess(
            stage=stage.label,
            successful=rows.get(stage, {}).get("successful", 0),
            decided=rows.get(stage, {}).get("decided", 0),
        )
        for stage in DecisionStage
    ]
    stages.append(
        DecisionSuccess(
            stage=ALL_STAGES,
            successful=sum(s.successful for s in stages),
            decided=sum(s.decided for s in stages),
        )
    )
    return stages


POUNDS_FIELD = DecimalField(max_digits=14, decimal_places=2)
GAIN = ExpressionWrapper(F("annual_amount") + F("one_off_amount"), output_field=POUNDS_FIELD)


def money_sum(expression, confirmed: bool):
    """The sum of `expression` over the confirmed (or the expected) financial outcomes, 0.00 for none."""
    return Coalesce(Sum(expression, filter=Q(confirmed=confirmed)), ZERO, output_field=POUNDS_FIELD)


@dataclass(frozen=True)
class MoneyGain:
    """Money gained, confirmed or expected: recurring amounts annualised, one-off amounts, their total, and
    the number of cases it rests on; to the penny."""

    annual: Decimal
    one_off: Decimal
    total: Decimal
    cases: int


@dataclass(frozen=True)
class MoneyTotals:
    confirmed: MoneyGain
    expected: MoneyGain


def money_totals(closed: QuerySet[Case]) -> MoneyTotals:
    """Money gained on the `closed` cases (`cases_closed`), confirmed and expected apart, in one query."""
    outcomes = FinancialOutcome.objects.counted().filter(issue__case__in=closed)
    figures = outcomes.aggregate(
        confirmed_annual=money_sum("annual_amount", True),
        confirmed_one_off=money_sum("one_off_amount", True),
        confirmed_cases=Count("issue__case", distinct=True, filter=Q(confirmed=True)),
        expected_annual=money_sum("annual_amount", False),
        expected_one_off=money_sum("one_off_amount", False),
        expected_cases=Count("issue__case", distinct=True, filter=Q(confirmed=False)),
    )

    def gain(kind: str) -> MoneyGain:
        annual, one_off = pennies(figures[f"{kind}_annual"]), pennies(figures[f"{kind}_one_off"])
        return MoneyGain(annual=annual, one_off=one_off, total=annual + one_off, cases=figures[f"{kind}_cases"])

    return MoneyTotals(confirmed=gain("confirmed"), expected=gain("expected"))


# What has become of an onward referral, in the dashboard's column order: referred by name only (no consent to
# share: nothing reached the provider), or handed over and then waiting, accepted, declined, closed (resolved, or
# another outcome) or stopped by a withdrawal of consent.
ONWARD_RESULTS = (
    ("recorded", "Named only, not handed over"),
    ("sent", "Waiting for an answer"),
    ("accepted", "Accepted, being worked"),
    ("declined", "Declined"),
    ("resolved", "Closed: problem resolved"),
    ("closed", "Closed: another outcome"),
    ("stopped", "Stopped: consent withdrawn"),
)


def onward_result(state: str | None, outcome: str | None) -> str:
    """An onward referral's result (ONWARD_RESULTS) from its handover's state and outcome (None: no handover)."""
    if state is None:
        return "recorded"
    if state == HandoverState.CLOSED:
        return "resolved" if outcome == HandoverOutcome.RESOLVED else "closed"
    return state


def onward_referrals_made(*, period: Period, **scope) -> QuerySet[OnwardReferral]:
    """Onward referrals made in the period. `scope` as for `referrals_received`, on the referral."""
    return OnwardReferral.objects.filter(
        **_scoped("referral__", scope), made_at__gte=period.starts_at, made_at__lt=period.ends_before
    )
