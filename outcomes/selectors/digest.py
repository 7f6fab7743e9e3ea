"""A referring organisation's figures for the referrers' monthly digest, counted with the shared definitions
(outcomes.selectors.figures), so that the same referrals give the same figures as on the dashboard: for the
month, the twelve months to its end and the financial year to date (outcomes.periods)."""

from dataclasses import dataclass

from hjp.accounts.models import Organisation
from outcomes import periods
from outcomes.selectors.figures import (
    MoneyTotals,
    Period,
    cases_closed,
    decision_success,
    money_totals,
    referral_totals,
    referrals_received,
)


@dataclass(frozen=True)
class DigestFigures:
    made: int
    accepted: int
    closed: int
    money: MoneyTotals
    decided: int
    won: int


def digest_figures(*, organisation: Organisation, period: Period) -> DigestFigures:
    """One referring organisation's figures for a period (exact: the digest applies outcomes.disclosure)."""
    received = referrals_received(period=period, referring_organisation=organisation)
    closed = cases_closed(period=period, referring_organisation=organisation)
    # Outcomes are reported back only where the patient agreed (consent scope 3, still given when composed). A
    # case closed on a withdrawal of all consent still counts, as on the dashboard and in the funder report
    # (tests/outcomes/test_figures_agree.py): erasure keeps the aggregate facts, and the digest says nothing of
    # any one patient.
    sharing = closed.filter(referral__consent__outcome_feedback=True)
    totals = referral_totals(received)
    all_stages = decision_success(sharing)[-1]
    return DigestFigures(
        made=totals.received,
        accepted=totals.accepted,
        closed=closed.count(),
        money=money_totals(sharing),
        decided=all_stages.decided,
        won=all_stages.successful,
    )


@dataclass(frozen=True)
class DigestPeriod:
    """One block of the digest: what it covers, and its exact figures (the message applies outcomes.disclosure)."""

    title: str
    period: Period
    figures: DigestFigures


def digest_periods(*, organisation: Organisation, year: int, month: int) -> list[DigestPeriod]:
    """The month, the twelve months to its end and the financial year to its end: at a practice's volumes a
    month's counts are nearly all 'fewer than 10', a year's are not. Each is a fixed span ending with a month,
    so two digests differ by whole months only."""
    spans = [
        ("The month", periods.FixedPeriod(periods.MONTH, year, month).period),
        ("The last twelve months", periods.rolling_twelve_months(year, month)),
        ("This financial year so far", periods.year_to_date(year, month)),
    ]
    return [
        DigestPeriod(title=title, period=span, figures=digest_figures(organisation=organisation, period=span))
        for title, span in spans
    ]
