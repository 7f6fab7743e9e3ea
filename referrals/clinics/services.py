"""Writes for advice clinics: publishing and cancelling a session, booking a slot (when a referral is sent),
moving or cancelling a booking and asking for an interpreter, and what a patient's erasure does to their
bookings. Each in one transaction with its audit entry; the other side is told through the outbox.

Locks, always in this order so that no two writes wait on each other in a circle: the advice organisation
(a referral being sent, `referrals.services.saving`), then the sessions concerned in id order, then the
booking. Two bookings of one slot queue on the session's row and the second is refused with `SlotTakenError`;
the partial unique index `clinic_booking_one_per_slot` stands behind it whatever a caller forgets."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from hjp.accounts.models import Membership, Role
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import placeholder
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from referrals import permissions as referral_permissions
from referrals.clinics import permissions
from referrals.clinics.models import IN_PERSON_MODES, ClinicBooking, ClinicSession, Interpreter
from referrals.models import Referral

Action = AuditEvent.Action


class SlotTakenError(DomainError):
    """The slot chosen was booked by someone else since the page was loaded."""

    def __init__(self):
        super().__init__(
            "Someone else booked that slot a moment ago. Choose another slot, or send the referral without "
            "one: your answers are kept."
        )


def _is_advice_worker(user, organisation_id: int) -> bool:
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=[Role.ADVISOR, Role.SUPERVISOR]
    ).exists()


@transaction.atomic
def clinic_session_publish(
    *,
    actor,
    partnership,
    advisor,
    mode: str,
    place: str,
    starts_at: datetime,
    slot_minutes: int,
    slot_count: int,
    notes: str = "",
) -> ClinicSession:
    """Publish a session of the partnership's advice organisation (see `permissions` for who may)."""
    organisation_id = partnership.advice_organisation_id
    if not permissions.may_publish_for(actor, advice_organisation_id=organisation_id, advisor=advisor):
        raise DomainError("You can publish sessions only for your own advice service (advisors: only your own).")
    if not _is_advice_worker(advisor, organisation_id):
        raise DomainError(f"{advisor} is not an advisor of {partnership.advice_organisation}.")
    if starts_at <= timezone.now():
        raise DomainError("A session must start in the future.")
    if mode in IN_PERSON_MODES and not place.strip():
        raise DomainError("Say where the session is: the practice, ward or venue, and the room.")
    session = ClinicSession(
        partnership=partnership,
        advisor=advisor,
        mode=mode,
        place=place.strip(),
        starts_at=starts_at,
        slot_minutes=slot_minutes,
        slot_count=slot_count,
        notes=notes.strip(),
        published_by=actor,
    )
    session.full_clean()
    session.save()
    audit_record(actor=actor, action=Action.CREATE, obj=session, summary="clinic session published")
    return session


def _lock_sessions(*ids: int) -> dict[int, ClinicSession]:
    # NO KEY UPDATE: bookings of the session queue on it; the key share its bookings' foreign keys take does not.
    locked = ClinicSession.objects.select_for_update(no_key=True).filter(pk__in=set(ids)).order_by("pk")
    return {s.pk: s for s in locked}


def _check_slot_free(session: ClinicSession, slot: int, *, partnership_id: int) -> None:
    if session.partnership_id != partnership_id:
        raise DomainError("That clinic is for another advice service's patients: choose one of this partnership's.")
    if session.is_cancelled:
        raise DomainError("That clinic session has been cancelled. Choose another slot.")
    if not 0 <= slot < session.slot_count:
        raise DomainError("That slot is not part of the session. Choose another slot.")
    if session.slot_starts_at(slot) <= timezone.now():
        raise DomainError("That slot has already started. Choose a later one.")
    if ClinicBooking.objects.active().filter(session=session, slot=slot).exists():
        raise SlotTakenError()


def _save_holding_the_slot(booking: ClinicBooking) -> None:
    """Save; a unique index refusing it means the slot (or, for a new booking, the referral) is taken."""
    booking.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as exc:
        if "clinic_booking_one_per_referral" in str(exc):
            raise DomainError("This referral already has a clinic booking: change that one instead.") from None
        raise SlotTakenError() from None


def _interpreter_fields(interpreter: str, interpreter_language: str) -> dict:
    interpreter = Interpreter(interpreter or "")
    language = interpreter_language.strip() if interpreter == Interpreter.LANGUAGE else ""
    if interpreter == Interpreter.LANGUAGE and not language:
        raise DomainError("Say which language the interpreter should speak.")
    return {"interpreter": interpreter, "interpreter_language": language}


def _tell(booking: ClinicBooking, *, what: str, actor, recipient, key: str, reason: str = "") -> None:
    referral = booking.referral
    url = reverse("referrals:detail", args=[referral.pk])
    context = {
        "what": what,
        "booking": booking,
        "referral": referral,
        "actor": actor,
        "reason": reason,
        "to_advisor": recipient.pk == booking.session.advisor_id,
    }
    message_queue(
        recipient=recipient,
        kind=MessageKind.CLINIC_BOOKING,
        key=key,
        subject=render_subject("clinic_booking", **context),
        body=render_message("clinic_booking", **context),
        url=url,
        referral_id=referral.pk,
    )


def _tell_the_other_side(booking: ClinicBooking, *, what: str, actor, reason: str = "", key: str = "") -> None:
    """The advisor of the session when the referrer side acted; the referrer (while still its author) when the
    advice side did."""
    key = key or f"clinic_booking:{booking.pk}:{what}:{timezone.now().timestamp()}"
    referral = booking.referral
    if referral_permissions.is_advice_side(actor, referral):
        if referral_permissions.author_is_current(referral):
            _tell(booking, what=what, actor=actor, recipient=referral.referrer, key=key, reason=reason)
    elif booking.session.advisor_id != actor.pk:
        _tell(booking, what=what, actor=actor, recipient=booking.session.advisor, key=key, reason=reason)


def clinic_booking_make(
    *, referral: Referral, actor, session_id: int, slot: int, interpreter: str = "", interpreter_language: str = ""
) -> ClinicBooking:
    """Book the referral's patient into a slot: called by `referral_save` in the transaction that sends the
    referral (a draft holds no slot). Refused with `SlotTakenError` when the slot is no longer free."""
    session = _lock_sessions(session_id).get(session_id)
    if session is None:
        raise DomainError("That clinic session no longer exists. Choose another slot.")
    _check_slot_free(session, slot, partnership_id=referral.partnership_id)
    booking = ClinicBooking(
        session=session,
        slot=slot,
        referral=referral,
        booked_by=actor,
        **_interpreter_fields(interpreter, interpreter_language),
    )
    _save_holding_the_slot(booking)
    audit_record(actor=actor, action=Action.CREATE, obj=booking, summary=f"clinic slot booked ({referral.reference})")
    _tell_the_other_side(booking, what="booked", actor=actor, key=f"clinic_booking:{booking.pk}:booked")
    return booking


@transaction.atomic
def clinic_booking_add(
    *, referral: Referral, actor, session_id: int, slot: int, interpreter: str = "", interpreter_language: str = ""
) -> ClinicBooking:
    """Book a slot for a referral already sent, by either side (`permissions.can_book_for`): after its booking
    was cancelled, or when none was made. Locks the referral, then the session."""
    locked = Referral.objects.select_for_update(of=("self",)).select_related("consent").get(pk=referral.pk)
    if not permissions.can_book_for(actor, locked):
        raise DomainError("A clinic slot can be booked only while the referral is open and consent stands.")
    return clinic_booking_make(
        referral=locked,
        actor=actor,
        session_id=session_id,
        slot=slot,
        interpreter=interpreter,
        interpreter_language=interpreter_language,
    )


def _lock_booking(booking: ClinicBooking, *also_sessions: int) -> tuple[ClinicBooking, dict[int, ClinicSession]]:
    sessions = _lock_sessions(booking.session_id, *also_sessions)
    locked = ClinicBooking.objects.select_for_update(of=("self",)).select_related("referral").get(pk=booking.pk)
    if locked.session_id not in sessions:
        raise DomainError("This booking was moved by someone else a moment ago: reload the page to see it now.")
    locked.session = sessions[locked.session_id]
    return locked, sessions


@transaction.atomic
def clinic_booking_change(
    *, booking: ClinicBooking, actor, session_id: int, slot: int, interpreter: str, interpreter_language: str
) -> ClinicBooking:
    """Move the booking to another free slot (of this partnership's sessions) and/or change the interpreter
    asked for; the other side is told what changed."""
    locked, sessions = _lock_booking(booking, session_id)
    if not permissions.can_change_booking(actor, locked):
        raise DomainError("This booking can no longer be changed: it was cancelled.")
    target = sessions.get(session_id)
    if target is None:
        raise DomainError("That clinic session no longer exists. Choose another slot.")
    moved = (target.pk, slot) != (locked.session_id, locked.slot)
    fields = _interpreter_fields(interpreter, interpreter_language)
    interpreter_changed = fields != {
        "interpreter": locked.interpreter,
        "interpreter_language": locked.interpreter_language,
    }
    if not moved and not interpreter_changed:
        return locked
    if moved:
        _check_slot_free(target, slot, partnership_id=locked.referral.partnership_id)
        locked.session, locked.slot = target, slot
    for name, value in fields.items():
        setattr(locked, name, value)
    _save_holding_the_slot(locked)
    what = "moved" if moved else "interpreter"
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary=f"clinic booking {what}")
    _tell_the_other_side(locked, what=what, actor=actor)
    return locked


@transaction.atomic
def clinic_booking_cancel(*, booking: ClinicBooking, actor, reason: str) -> ClinicBooking:
    """Cancel the booking, freeing its slot; the other side is told, with the reason."""
    locked, _ = _lock_booking(booking)
    if not permissions.can_change_booking(actor, locked):
        raise DomainError("This booking was already cancelled.")
    locked.cancelled_at, locked.cancelled_by, locked.cancellation_reason = timezone.now(), actor, reason.strip()
    locked.save(update_fields=["cancelled_at", "cancelled_by", "cancellation_reason", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="clinic booking cancelled")
    _tell_the_other_side(locked, what="cancelled", actor=actor, reason=locked.cancellation_reason)
    return locked


@transaction.atomic
def clinic_session_cancel(*, session: ClinicSession, actor, reason: str) -> ClinicSession:
    """Cancel the session and every booking in it; each booked referral's referrer is told."""
    locked = _lock_sessions(session.pk)[session.pk]
    if not permissions.can_cancel_session(actor, locked):
        raise DomainError("This session was already cancelled, or is not yours to cancel.")
    now = timezone.now()
    locked.cancelled_at, locked.cancelled_by, locked.cancellation_reason = now, actor, reason.strip()
    locked.save(update_fields=["cancelled_at", "cancelled_by", "cancellation_reason", "updated_at"])
    bookings = list(
        ClinicBooking.objects.active()
        .filter(session=locked)
        .select_for_update(of=("self",))
        .select_related("referral__patient")
    )
    ClinicBooking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        cancelled_at=now, cancelled_by=actor, cancellation_reason="The session was cancelled.", updated_at=now
    )
    for booking in bookings:
        booking.session = locked
        _tell_the_other_side(booking, what="session_cancelled", actor=actor, reason=locked.cancellation_reason)
    audit_record(
        actor=actor, action=Action.UPDATE, obj=locked, summary=f"clinic session cancelled ({len(bookings)} bookings)"
    )
    return locked


def clinic_bookings_erase(*, referral_ids: list[int], reason: str, actor=None, now: datetime) -> None:
    """The erasure path's part for clinics (`referrals.services.erasure`): a withdrawn or expired patient's
    bookings are cancelled, freeing their slots, and the interpreter asked for and the reasons typed go. One
    query for any batch (every SET reads the row as it was)."""
    still_booked = Q(cancelled_at__isnull=True)
    ClinicBooking.objects.filter(referral_id__in=referral_ids).update(
        cancelled_at=Case(When(still_booked, then=Value(now)), default=F("cancelled_at")),
        cancelled_by=Case(
            When(still_booked, then=Value(actor.pk if actor else None)),
            default=F("cancelled_by"),
            output_field=BigIntegerField(),
        ),
        cancellation_reason=Case(When(cancellation_reason="", then=Value("")), default=Value(placeholder(reason))),
        interpreter="",
        interpreter_language="",
        updated_at=now,
    )
