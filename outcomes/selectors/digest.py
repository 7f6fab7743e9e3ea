"""A referring organisation's figures for the referrers' monthly digest, counted with the shared definitions
(outcomes.selectors.figures) and read, like the dashboard's, from the running totals (outcomes.running_figures),
so that the same referrals give the same figures as on the dashboard: for the month, the twelve months to its
end and the financial year to date (outcomes.periods)."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum

from hjp.accounts.models import Organisation
from hjp.core.money import pennies
from outcomes import periods
from outcomes import running_figures as rf
from outcomes.models import FigureCell
from outcomes.selectors.figures import ZERO, MoneyGain, MoneyTotals, Period

DIGEST_MEASURES = (
    rf.ORGANISATION,
    rf.ORG_ACCEPTED,
    rf.ORG_CLOSED,
    rf.ORG_ANNUAL,
    rf.ORG_ONE_OFF,
    rf.ORG_MONEY_CASES,
    rf.ORG_WON,
    rf.ORG_DECIDED,
)


@dataclass(frozen=True)
class DigestFigures:
    made: int
    accepted: int
    closed: int
    money: MoneyTotals
    decided: int
    won: int


def digest_figures(*, organisation: Organisation, period: Period, partnership_id: int | None = None) -> DigestFigures:
    """One referring organisation's figures for a period (exact: the digest applies outcomes.disclosure), from
    the running totals (outcomes.running_figures) of every partnership it refers to (its own referrers' and
    champions' digest), or of one (`partnership_id`: a lead's, who must not see the organisation's referrals to
    another partnership's advice service), in one query. It only reads:
    the caller counts what is pending first (`outcomes.running_figures.refresh_pending`), outside any transaction
    that holds other rows (a digest is composed under its message's row lock).

    Outcomes are reported back only where the patient agreed (consent scope 3). A case closed on a withdrawal
    of all consent still counts, as on the dashboard and in the funder report (tests/outcomes/test_figures_agree.py):
    erasure keeps the aggregate facts, and the digest says nothing of any one patient."""
    key = str(organisation.pk)
    kinds = {f"{key}:{kind}": kind for kind in (rf.CONFIRMED, rf.EXPECTED)}
    totals = defaultdict(lambda: [0, ZERO])
    cells = FigureCell.objects.filter(
        measure__in=DIGEST_MEASURES, key__in=[key, *kinds], month__gte=period.start, month__lte=period.end
    )
    if partnership_id is not None:
        cells = cells.filter(partnership_id=partnership_id)
    for row in cells.values("measure", "key").annotate(n=Sum("n"), amount=Sum("amount")).order_by():
        total = totals[row["measure"], kinds.get(row["key"], "")]
        total[0] += row["n"]
        total[1] += pennies(row["amount"])

    def gain(kind: str) -> MoneyGain:
        annual, one_off = totals[rf.ORG_ANNUAL, kind][1], totals[rf.ORG_ONE_OFF, kind][1]
        return MoneyGain(
            annual=annual, one_off=one_off, total=annual + one_off, cases=totals[rf.ORG_MONEY_CASES, kind][0]
        )

    return DigestFigures(
        made=totals[rf.ORGANISATION, ""][0],
        accepted=totals[rf.ORG_ACCEPTED, ""][0],
        closed=totals[rf.ORG_CLOSED, ""][0],
        money=MoneyTotals(confirmed=gain(rf.CONFIRMED), expected=gain(rf.EXPECTED)),
        decided=totals[rf.ORG_DECIDED, ""][0],
        won=totals[rf.ORG_WON, ""][0],
    )


@dataclass(frozen=True)
class DigestPeriod:
    """One block of the digest: what it covers, and its exact figures (the message applies outcomes.disclosure)."""

    title: str
    period: Period
    figures: DigestFigures


def digest_periods(
    *, organisation: Organisation, year: int, month: int, partnership_id: int | None = None
) -> list[DigestPeriod]:
    """The month, the twelve months to its end and the financial year to its end: at a practice's volumes a
    month's counts are nearly all 'fewer than 10', a year's are not. Each is a fixed span ending with a month,
    so two digests differ by whole months only. Within one partnership with `partnership_id` (a lead's digest)."""
    spans = [
        ("The month", periods.FixedPeriod(periods.MONTH, year, month).period),
        ("The last twelve months", periods.rolling_twelve_months(year, month)),
        ("This financial year so far", periods.year_to_date(year, month)),
    ]
    return [
        DigestPeriod(
            title=title,
            period=span,
            figures=digest_figures(organisation=organisation, period=span, partnership_id=partnership_id),
        )
        for title, span in spans
    ]
