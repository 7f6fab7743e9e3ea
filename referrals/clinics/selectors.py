"""Reads for advice clinics, each taking the acting user and returning only what they may see."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from hjp.core.dates import start_of_today
from hjp.core.lookups import get_visible_or_404
from referrals.clinics.models import ClinicBooking, ClinicSession

# How far ahead the clinics page and the referral form look.
UPCOMING_LIMIT = 60


def upcoming_sessions(*, user, partnership_ids=None) -> QuerySet[ClinicSession]:
    """The sessions the user may see from the start of today, not cancelled, soonest first, each with its
    active bookings' slots (`taken`, a prefetch of ClinicBooking rows with only the slot read) and its
    advisor and partnership: two queries for any number of sessions."""
    sessions = ClinicSession.objects.visible_to(user).filter(cancelled_at__isnull=True, starts_at__gte=start_of_today())
    if partnership_ids is not None:
        sessions = sessions.filter(partnership_id__in=partnership_ids)
    return (
        sessions.select_related("advisor", "partnership")
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=ClinicBooking.objects.active().only("pk", "session_id", "slot", "referral_id"),
                to_attr="taken",
            )
        )
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class Slot:
    number: int
    starts_at: datetime
    booking: ClinicBooking | None  # the active booking, when the slot is taken

    @property
    def is_free(self) -> bool:
        return self.booking is None and self.starts_at > timezone.now()


def slots_of(session: ClinicSession, bookings=None) -> list[Slot]:
    """Every slot of the session with its booking (from `bookings`, else the session's prefetched `taken`)."""
    by_slot = {b.slot: b for b in (bookings if bookings is not None else session.taken)}
    return [Slot(n, session.slot_starts_at(n), by_slot.get(n)) for n in range(session.slot_count)]


def free_slots(session: ClinicSession) -> list[Slot]:
    return [slot for slot in slots_of(session) if slot.is_free]


def get_session_for_user(user, pk) -> ClinicSession:
    """The session if the user may see it; 404 whether it is missing or forbidden."""
    queryset = ClinicSession.objects.visible_to(user).select_related(
        "advisor", "partnership", "published_by", "cancelled_by"
    )
    return get_visible_or_404(queryset, pk, "No such clinic session.")


def session_bookings(*, user, session: ClinicSession) -> list[ClinicBooking]:
    """The session's active bookings, each with `visible`: whether the user may see its referral (the advice
    side sees them all; a referrer only those of referrals they see, the others are just "booked"). One query."""
    from referrals.models import Referral

    return list(
        ClinicBooking.objects.active()
        .filter(session=session)
        .annotate(visible=Exists(Referral.objects.visible_to(user).filter(pk=OuterRef("referral_id"))))
        .select_related("referral__patient")
        .order_by("slot")
    )


def get_booking_for_user(user, pk) -> ClinicBooking:
    """An active or cancelled booking whose referral the user may see; 404 otherwise."""
    queryset = ClinicBooking.objects.visible_to(user).select_related(
        "session__advisor", "session__partnership", "referral__patient"
    )
    return get_visible_or_404(queryset, pk, "No such booking.")


def referral_bookings(*, referral_id: int) -> list[ClinicBooking]:
    """The referral's active booking (at most one) with its session and advisor, for the pages of a referral
    or case the caller has already checked the user may see. One query."""
    return list(
        ClinicBooking.objects.active()
        .filter(referral_id=referral_id)
        .select_related("session__advisor", "session__partnership")
    )


def advisor_bookings(*, user, start: datetime, end: datetime) -> QuerySet[ClinicBooking]:
    """The active bookings of the advisor's own sessions (not cancelled) starting from `start` to before `end`,
    soonest first, of referrals sent to their advice organisation. One query; slice it."""
    from referrals.models import Referral

    return (
        ClinicBooking.objects.active()
        .filter(
            session__advisor=user,
            session__cancelled_at__isnull=True,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
            referral__in=Referral.objects.received_by(user).values("pk"),
        )
        .select_related("session", "referral__patient")
        .order_by("session__starts_at", "slot", "pk")
    )
