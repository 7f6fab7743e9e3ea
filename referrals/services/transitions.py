"""The referral's states: every change of state goes through `referral_transition` (and a withdrawal of
consent's cancellation through `_referral_cancel_for_consent`). Once a referral has a case, casework's case
lifecycle (casework.services.lifecycle) makes its moves and decides its business status (`case_status`); this
app only records them."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from referrals import permissions
from referrals.models import CaseStatus, Consent, DeclineReason, Referral, ReferralStatus, ReferralStatusChange
from referrals.signals import task_changed

S = ReferralStatus

# Who may make each move. "referrer": the referrer's side; "advisor": the advice organisation's side;
# "supervisor": a supervisor of that organisation; "consent": a recorded withdrawal of consent.
# The moves of an accepted referral belong to its case: casework makes them with the case's own
# (casework.services.lifecycle.case_transition), and a case reopened before anyone reached the patient takes
# its referral back to accepted.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({"referrer"}),
    (S.DRAFT, S.CANCELLED): frozenset({"referrer", "retention"}),
    (S.SUBMITTED, S.ACCEPTED): frozenset({"advisor"}),
    (S.SUBMITTED, S.DECLINED): frozenset({"advisor"}),
    (S.SUBMITTED, S.REDIRECTED): frozenset({"advisor"}),
    (S.SUBMITTED, S.CANCELLED): frozenset({"referrer", "consent"}),
    (S.SUBMITTED, S.ENTERED_IN_ERROR): frozenset({"referrer"}),
    (S.ACCEPTED, S.IN_PROGRESS): frozenset({"advisor"}),
    (S.ACCEPTED, S.CLOSED): frozenset({"advisor"}),
    (S.ACCEPTED, S.CANCELLED): frozenset({"consent"}),
    (S.IN_PROGRESS, S.CLOSED): frozenset({"advisor"}),
    (S.IN_PROGRESS, S.CANCELLED): frozenset({"consent"}),
    (S.CLOSED, S.IN_PROGRESS): frozenset({"supervisor"}),
    (S.CLOSED, S.ACCEPTED): frozenset({"supervisor"}),
}
# FHIR requires a statusReason for these.
REASON_REQUIRED = frozenset({S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR})
CONSENT_WITHDRAWN_REASON = "Consent withdrawn"


def allowed_targets(*, referral: Referral, user) -> list[str]:
    """The states this user may move this referral to now (for showing the right buttons): none once the patient
    has withdrawn consent, as `referral_transition` then refuses every move."""
    consent = getattr(referral, "consent", None)
    if consent is not None and consent.is_withdrawn:
        return []
    capacities = _capacities(user, referral)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == referral.status and who & capacities]


def _capacities(user, referral: Referral) -> frozenset[str]:
    capacities = set()
    if permissions.is_referrer_side(user, referral):
        capacities.add("referrer")
    if permissions.is_advice_side(user, referral):
        capacities.add("advisor")
        if permissions.is_supervisor_for(user, referral):
            capacities.add("supervisor")
    return frozenset(capacities)


def _label(status: str) -> str:
    return ReferralStatus(status).label.lower()


@transaction.atomic
def referral_transition(
    *, referral: Referral, to_status: str, actor, reason: str = "", decline_reason: str = ""
) -> Referral:
    """Move a referral to `to_status` if DESIGN.md's table allows it for this actor; record who, when, why
    (`reason`, in words, and for a decline `decline_reason`, a DeclineReason code kept apart for reports).
    A referral whose patient withdrew consent makes no more moves.

    The moves of a referral that has a case (accepted, in progress, closed) are casework's to make, through
    `casework.services.lifecycle.case_transition`, which also sets the case's business status: this function
    touches the referral's own state only.

    Raises DomainError with a message for the user when the move is not allowed."""
    return _transition(
        referral=referral, to_status=to_status, actor=actor, reason=reason, decline_reason=decline_reason
    )


def _referral_cancel_for_consent(*, referral: Referral, actor) -> Referral:
    """Cancel a referral because its patient withdrew consent: the one move made in the "consent" capacity
    (whoever recorded the withdrawal makes it), and the one a referral whose consent is withdrawn still makes.
    Only `consent_withdraw` calls this."""
    return _transition(
        referral=referral, to_status=S.CANCELLED, actor=actor, reason=CONSENT_WITHDRAWN_REASON, capacity="consent"
    )


def _referral_discard_abandoned_draft(*, referral: Referral, days: int) -> Referral:
    """Cancel a draft nobody sent within `days`: the one move made in the "retention" capacity, by no one.
    Only the retention run calls this, just before it anonymises the draft."""
    return _transition(
        referral=referral,
        to_status=S.CANCELLED,
        actor=None,
        reason=f"Draft not sent within {days} days: discarded",
        capacity="retention",
    )


def _transition(
    *,
    referral: Referral,
    to_status: str,
    actor,
    reason: str = "",
    decline_reason: str = "",
    capacity: str | None = None,
) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    from_status = locked.status
    reason = (reason or "").strip()
    to_status = ReferralStatus(to_status)
    allowed_for = TRANSITIONS.get((from_status, to_status))
    if from_status == to_status:
        raise DomainError(f"This referral is already {_label(to_status)}.")
    if allowed_for is None:
        raise DomainError(f"A referral that is {_label(from_status)} cannot become {_label(to_status)}.")
    if capacity is None and Consent.objects.filter(referral=locked, withdrawn_at__isnull=False).exists():
        raise DomainError("The patient withdrew their consent: this referral cannot change any more.")
    capacities = {capacity} if capacity else _capacities(actor, locked)
    if not allowed_for & capacities:
        raise DomainError(f"You may not make a {_label(from_status)} referral {_label(to_status)}.")
    if to_status in REASON_REQUIRED and not reason and not decline_reason:
        raise DomainError(f"Give a reason for making this referral {_label(to_status)}.")
    if decline_reason and (to_status != S.DECLINED or decline_reason not in DeclineReason.values):
        raise DomainError("A coded reason is given only for declining, from the list of reasons.")

    now = timezone.now()
    locked.status = to_status
    if to_status == S.SUBMITTED:
        locked.submitted_at = now
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    change = ReferralStatusChange.objects.create(
        referral=locked,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        decline_reason=decline_reason,
        at=now,
    )
    # Triage's answer; a case reopened to awaiting its first contact is not accepted a second time.
    if to_status in STATUS_NOTICES and from_status == S.SUBMITTED:
        _queue_status_notice(locked, change)
    entry = audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=locked,
        summary=f"{from_status} -> {to_status}",
    )
    task_changed.send(sender=Referral, referral_id=locked.pk, change=f"audit-{entry.pk}")
    referral.refresh_from_db()
    return locked


# The referrer is told when the advice service accepts, declines or redirects (templates/messages/status_notice*).
STATUS_NOTICES = frozenset({S.ACCEPTED, S.DECLINED, S.REDIRECTED})


def _queue_status_notice(referral: Referral, change: ReferralStatusChange) -> None:
    """Tell the referrer that the advice service accepted, declined or redirected their referral (not one who has
    since left the organisation or moved to another role: they can no longer open it)."""
    if not permissions.author_is_current(referral):
        return
    message_queue(
        recipient=referral.referrer,
        kind=MessageKind.STATUS_NOTICE,
        key=f"status_notice:change:{change.pk}",
        subject=render_subject("status_notice", referral=referral, change=change, ReferralStatus=S),
        body=render_message("status_notice", referral=referral, change=change, ReferralStatus=S),
        url=reverse("referrals:detail", args=[referral.pk]),
        referral_id=referral.pk,
    )


@transaction.atomic
def referral_set_case_status(*, referral: Referral, case_status: str, actor) -> Referral:
    """Write the business status (FHIR Task.businessStatus) that casework's case lifecycle decided for this
    referral, with an audit entry when it changes: casework (`casework.services.lifecycle`) decides it and
    checks who may set it. A referral has one only while it is accepted or in progress."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    case_status = CaseStatus(case_status) if case_status else ""
    if case_status and locked.status not in (S.ACCEPTED, S.IN_PROGRESS):
        raise DomainError("The case status can only be set while the case is open.")
    if locked.case_status != case_status:
        previous = locked.case_status
        locked.case_status = case_status
        locked.save(update_fields=["case_status", "updated_at"])
        entry = audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=locked,
            summary=f"case status {previous or 'none'} -> {case_status or 'none'}",
        )
        task_changed.send(sender=Referral, referral_id=locked.pk, change=f"audit-{entry.pk}")
    referral.refresh_from_db()
    return locked
