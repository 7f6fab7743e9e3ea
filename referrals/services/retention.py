"""The retention period: referrals that finished longer ago than their partnership keeps patients' details are
anonymised, through the same erasure path as a withdrawal of consent (`referrals.services.erasure`).

A referral has finished when it is closed (its case closed), declined, redirected, cancelled (consent
withdrawn, or discarded as a draft) or entered in error; it finished at its last move on the timeline (the
case's closing, for a closed one). A reopened case is not finished. A draft nobody sent within
`DRAFT_RETENTION_DAYS` of its last save was abandoned: the run discards it (cancelled, in the "retention"
capacity) and anonymises it with the rest, whatever the partnership's period, since no one was ever told of it. Patients erased already (`redacted_at`)
are never taken again, so a run is idempotent, and a run stopped half-way resumes where it was: each batch
commits on its own."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from hjp.accounts.models import Partnership
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.appeal_clock import add_calendar_months
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason
from referrals.models import Referral, ReferralStatus, ReferralStatusChange
from referrals.services.erasure import referrals_erase
from referrals.services.transitions import _referral_discard_abandoned_draft

logger = logging.getLogger(__name__)

S = ReferralStatus
FINISHED_STATUSES = (S.CLOSED, S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR)
BATCH_SIZE = 500


def retention_cutoff(*, now: datetime, years: int) -> datetime:
    """The moment `years` calendar years before `now` (29 February falls back to 28 February)."""
    local = timezone.localtime(now)
    day = add_calendar_months(local.date(), -12 * years)
    return local.replace(year=day.year, month=day.month, day=day.day)


def expired_referrals(*, partnership: Partnership, now: datetime) -> QuerySet[Referral]:
    """The partnership's referrals past its retention period and not yet anonymised, in id order."""
    last_move = ReferralStatusChange.objects.filter(referral=OuterRef("pk")).order_by("-at", "-pk").values("at")[:1]
    return (
        Referral.objects.filter(partnership=partnership, patient__redacted_at__isnull=True)
        # A finished referral without a timeline (imported, or older than timelines) finished at its last save.
        .annotate(finished_at=Coalesce(Subquery(last_move), F("updated_at")))
        .filter(
            Q(
                status__in=FINISHED_STATUSES,
                finished_at__lt=retention_cutoff(now=now, years=partnership.retention_years),
            )
            | Q(status=ReferralStatus.DRAFT, updated_at__lt=draft_cutoff(now=now))
        )
        .order_by("pk")
    )


def draft_cutoff(*, now: datetime) -> datetime:
    """A draft last saved before this was abandoned."""
    return now - timedelta(days=settings.DRAFT_RETENTION_DAYS)


@dataclass
class PartnershipExpiry:
    partnership: Partnership
    cutoff: datetime
    count: int
    references: list[str] = field(default_factory=list)


def retention_preview(*, now: datetime | None = None, references: int | None = None) -> list[PartnershipExpiry]:
    """What the next run would anonymise, per partnership: how many referrals and (up to `references` of them,
    all when None) their references. Changes nothing."""
    now = now or timezone.now()
    preview = []
    for partnership in Partnership.objects.order_by("name"):
        expired = expired_referrals(partnership=partnership, now=now)
        count = expired.count()
        listed = expired.values_list("reference", flat=True)
        names = list(listed if references is None else listed[:references]) if count else []
        cutoff = retention_cutoff(now=now, years=partnership.retention_years)
        preview.append(PartnershipExpiry(partnership=partnership, cutoff=cutoff, count=count, references=names))
    return preview


def anonymise_expired_records(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> dict[int, int]:
    """Anonymise every referral past its partnership's retention period, `batch_size` a transaction, and write
    one audit entry for the run with the counts per partnership. Rows another transaction holds locked (a
    withdrawal being recorded) are skipped; the next run takes them. Returns {partnership id: count}."""
    now = now or timezone.now()
    counts: dict[int, int] = {}
    try:
        for partnership in Partnership.objects.order_by("pk"):
            counts[partnership.pk] = 0
            after = 0
            while True:
                ids, anonymised = _anonymise_batch(partnership=partnership, now=now, after=after, batch_size=batch_size)
                if not ids:
                    break
                counts[partnership.pk] += anonymised
                after = ids[-1]
    finally:
        # A run that stops half-way (a database error) still records what its committed batches did.
        _audit_run(counts)
    return counts


def _audit_run(counts: dict[int, int]) -> None:
    total = sum(counts.values())
    per_partnership = ", ".join(f"partnership {pk}: {n}" for pk, n in counts.items() if n) or "none"
    audit_record(
        actor=None,
        action=AuditEvent.Action.REDACT,
        object_type="referrals.referral",
        summary=f"retention run: {total} referral(s) anonymised ({per_partnership})",
    )
    logger.info("Retention run anonymised %s referral(s): %s", total, per_partnership)


@transaction.atomic
def _anonymise_batch(*, partnership: Partnership, now: datetime, after: int, batch_size: int) -> tuple[list[int], int]:
    """Lock and anonymise the next batch of the partnership's expired referrals with ids above `after`.
    Returns their ids, in order (empty when none is left), and how many were anonymised: none when messages
    about one of them could not be locked in time (the batch is left whole for the next run)."""
    rows = list(
        expired_referrals(partnership=partnership, now=now)
        .filter(pk__gt=after)
        .select_for_update(of=("self",), skip_locked=True)
        .values_list("pk", "status")[:batch_size]
    )
    ids = [pk for pk, _ in rows]
    if not ids:
        return ids, 0
    try:
        with transaction.atomic():
            for pk, status in rows:
                if status == ReferralStatus.DRAFT:
                    _referral_discard_abandoned_draft(referral=Referral(pk=pk), days=settings.DRAFT_RETENTION_DAYS)
            referrals_erase(referral_ids=ids, reason=ErasureReason.RETENTION, actor=None, now=now)
    except DomainError:
        # Messages about one of these patients are being delivered right now: the next run takes the batch.
        logger.warning("Retention: referrals %s to %s left for the next run (messages being sent).", ids[0], ids[-1])
        return ids, 0
    return ids, len(ids)
