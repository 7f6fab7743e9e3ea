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
These rules are the definitions of record; the tests' reference, tests/outcomes/raw_figures.py, counts the raw
tables by them with querysets (`referrals_received`, `cases_closed`, `referral_totals`, `decision_success`,
`money_totals`), which the app no longer uses. Here remain what the pages share: the period, the rounding, the
figures' shapes and the decision results counted as won and as decided.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from hjp.core.dates import format_date
from outcomes.models import SUCCESSFUL_RESULTS, DecisionResult
from referrals.models import HandoverOutcome, HandoverState

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


# Of decisions on claims and appeals: won when awarded or increased, out of those decided (won or refused;
# a withdrawn claim was never decided).
DECISION_WON = Q(result__in=SUCCESSFUL_RESULTS)
DECISION_DECIDED = Q(result__in=DECIDED_RESULTS)


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
