"""Aggregates for dashboards and reports, computed by the database. No patient details leave here."""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from referrals.models import Referral, ReferralStatus

S = ReferralStatus


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def suppress(value: int | None) -> str:
    """Counts from 1 to 4 are shown as 'fewer than 5' wherever funders or digests see them."""
    if value is None:
        return "-"
    if 0 < value < settings.SMALL_NUMBER_THRESHOLD:
        return f"fewer than {settings.SMALL_NUMBER_THRESHOLD}"
    return str(value)


def _received(partnership, period: Period):
    return Referral.objects.filter(
        partnership=partnership,
        submitted_at__date__gte=period.start,
        submitted_at__date__lte=period.end,
    )


def referral_summary(*, partnership, period: Period) -> dict:
    qs = _received(partnership, period)
    totals = qs.aggregate(
        received=Count("pk"),
        accepted=Count("pk", filter=Q(status__in=[S.ACCEPTED, S.IN_PROGRESS, S.CLOSED])),
        declined=Count("pk", filter=Q(status=S.DECLINED)),
        redirected=Count("pk", filter=Q(status=S.REDIRECTED)),
        closed=Count("pk", filter=Q(status=S.CLOSED)),
        decided=Count("pk", filter=Q(status__in=[S.ACCEPTED, S.IN_PROGRESS, S.CLOSED, S.DECLINED, S.REDIRECTED])),
    )
    totals["acceptance_rate"] = round(100 * totals["accepted"] / totals["decided"]) if totals["decided"] else None
    by_org = list(
        qs.values("referring_organisation__name").annotate(n=Count("pk")).order_by("-n", "referring_organisation__name")
    )
    by_month = list(qs.annotate(month=TruncMonth("submitted_at")).values("month").annotate(n=Count("pk")).order_by("month"))
    return {"totals": totals, "by_organisation": by_org, "by_month": by_month}
