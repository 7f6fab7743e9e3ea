"""The case itself: notes and first contact, details, allocation, closing, reopening, consent withdrawal."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from casework.models import (
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    ClosureReason,
    Deadline,
    EvidenceRequest,
)
from casework.permissions import can_mark_entered_in_error, case_workers, is_supervisor_of
from casework.services.common import (
    ENTERED_IN_ERROR_REFUSED,
    bump_version,
    clean_and_save,
    lock_case,
    refresh_next_deadline,
)
from casework.services.lifecycle import case_set_business_status, case_transition
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.dates import format_date_time, start_of_today
from hjp.core.errors import DomainError
from hjp.core.models import mark_entered_in_error
from hjp.core.redaction import ErasureReason
from hjp.core.submissions import once_per_submission
from referrals.services import consent_withdraw, referrals_erase

Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def case_note_add(
    *, case: Case, actor, kind: str, text: str, occurred_at: datetime, first_contact: bool = False
) -> CaseNote:
    """Add a note to the timeline. With `first_contact`, it records the first contact with the patient:
    the case and the referral move to in progress."""
    locked = lock_case(case, actor=actor)
    if first_contact and locked.state != CaseState.AWAITING_CONTACT:
        raise DomainError("The first contact with this patient is already recorded.")
    if first_contact and kind == CaseNote.Kind.INTERNAL:
        raise DomainError("First contact is a call, meeting or letter with the patient, not an internal note.")
    sent_at = locked.referral.submitted_at
    if first_contact and sent_at and occurred_at < sent_at - timedelta(minutes=5):
        raise DomainError(f"The first contact cannot be before the referral was sent ({format_date_time(sent_at)}).")
    note = CaseNote(case=locked, kind=kind, text=text.strip(), occurred_at=occurred_at, author=actor)
    clean_and_save(note)
    if first_contact:
        # A time typed to the minute may fall just before the submission: never count a negative wait.
        occurred_at = max(occurred_at, sent_at) if sent_at else occurred_at
        case_transition(case=locked, to_state=CaseState.IN_PROGRESS, actor=actor, first_contact_at=occurred_at)
    audit_record(
        actor=actor, action=Action.CREATE, obj=note, summary="first contact" if first_contact else f"{kind} note"
    )
    return note


@transaction.atomic
def case_note_mark_entered_in_error(*, note: CaseNote, actor, reason: str) -> CaseNote:
    """Mark a note written in error (the wrong case, the wrong patient): it stays on the timeline, struck through
    with who marked it and why; notes are never edited or deleted. By its author or a supervisor."""
    locked = lock_case(note.case, actor=actor, must_be_open=False)
    note = CaseNote.objects.select_for_update().get(pk=note.pk, case=locked)
    if not can_mark_entered_in_error(actor, note, locked):
        raise DomainError(ENTERED_IN_ERROR_REFUSED.format(record="note", author="wrote it"))
    mark_entered_in_error(note, actor=actor, reason=reason, now=timezone.now())
    clean_and_save(note)
    audit_record(actor=actor, action=Action.UPDATE, obj=note, summary="entered in error")
    return note


@transaction.atomic
def case_update(*, case: Case, actor, version: int, summary: str, case_status: str) -> Case:
    """Edit the case summary and the case status the referrer reads."""
    locked = lock_case(case, actor=actor, version=version)
    locked.summary = summary.strip()
    bump_version(locked, "summary")
    if case_status:
        case_set_business_status(case=locked, business_status=case_status, actor=actor)
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="case details")
    return locked


@transaction.atomic
def case_reallocate(*, case: Case, actor, version: int, advisor, note: str = "") -> Case:
    locked = lock_case(case, actor=actor, version=version)
    organisation_id = locked.referral.advice_organisation_id
    if not is_supervisor_of(actor, organisation_id):
        raise DomainError("Only a supervisor can reallocate a case.")
    if not case_workers(organisation_id).filter(pk=advisor.pk).exists():
        raise DomainError("A case can only be allocated to an advisor of this advice service.")
    if advisor.pk == locked.advisor_id:
        raise DomainError(f"This case is already {advisor}'s.")
    previous = locked.advisor
    locked.advisor = advisor
    bump_version(locked, "advisor")
    # The new advisor holds the appointments still booked from today on (their day's list reads their own diary:
    # casework.selectors.home_appointments); those of earlier days stay with whoever held them.
    Appointment.objects.filter(
        case=locked, attendance=Appointment.Attendance.BOOKED, starts_at__gte=start_of_today()
    ).update(advisor=advisor, updated_at=timezone.now())
    clean_and_save(
        CaseNote(
            case=locked,
            kind=CaseNote.Kind.INTERNAL,
            author=actor,
            text=f"Reallocated from {previous} to {advisor}. {note.strip()}".strip(),
        )
    )
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary=f"reallocated to user {advisor.pk}")
    return locked


def settle_open_work(*, case_ids: list[int], actor, now) -> tuple[int, int]:
    """Settle what would otherwise look live after cases stop: open evidence requests and booked appointments
    still to come are cancelled, open deadlines and issues are closed with the case (by the actor, now; by the
    case's advisor when no person acts, as for the retention job). Returns how many deadlines and issues were
    closed. A fixed number of queries, however many cases."""
    EvidenceRequest.objects.filter(case_id__in=case_ids, state=EvidenceRequest.State.REQUESTED).update(
        state=EvidenceRequest.State.CANCELLED, updated_at=now
    )
    Appointment.objects.filter(
        case_id__in=case_ids, attendance=Appointment.Attendance.BOOKED, starts_at__gt=now
    ).update(attendance=Appointment.Attendance.CANCELLED, updated_at=now)
    done_by = (
        actor.pk if actor is not None else Subquery(Case.objects.filter(pk=OuterRef("case_id")).values("advisor_id"))
    )
    deadlines = Deadline.objects.filter(case_id__in=case_ids, done_at__isnull=True).update(
        settlement=Deadline.Settlement.CLOSED_WITH_CASE, done_at=now, done_by_id=done_by, updated_at=now
    )
    refresh_next_deadline(case_ids)
    issues = CaseIssue.objects.filter(case_id__in=case_ids, status=CaseIssue.Status.OPEN).update(
        status=CaseIssue.Status.CLOSED_WITH_CASE, resolved_at=now, updated_at=now
    )
    return deadlines, issues


def _stop_open_work(case: Case, *, actor) -> str:
    """Settle the open work of one case that stops; returns what was settled, for the audit entry."""
    deadlines, issues = settle_open_work(case_ids=[case.pk], actor=actor, now=timezone.now())
    return f"closed with the case: {deadlines} open deadline(s), {issues} open issue(s)"


@transaction.atomic
def case_close(*, case: Case, actor, version: int, closure_reason: str, note: str = "") -> Case:
    if closure_reason == ClosureReason.CONSENT_WITHDRAWN:
        raise DomainError("Record a withdrawal of consent with 'Record consent withdrawal', not by closing.")
    locked = lock_case(case, actor=actor, version=version)
    reason = ClosureReason(closure_reason)
    locked = case_transition(
        case=locked,
        to_state=CaseState.CLOSED,
        actor=actor,
        reason=reason.label,
        closure_reason=reason,
        closure_note=note,
    )
    settled = _stop_open_work(locked, actor=actor)
    audit_record(actor=actor, action=Action.TRANSITION, obj=locked, summary=f"closed: {reason}; {settled}")
    return locked


@transaction.atomic
def case_reopen(*, case: Case, actor, version: int, reason: str) -> Case:
    """A supervisor reopens a closed case. A case withdrawn for consent cannot be reopened. The issues closed
    with the case are open again, to be worked and given outcomes; its deadlines stay settled (their dates
    have usually passed): the advisor adds the deadlines that apply now."""
    locked = lock_case(case, actor=actor, version=version, must_be_open=False)
    if locked.is_open:
        raise DomainError("This case is already open.")
    if not is_supervisor_of(actor, locked.referral.advice_organisation_id):
        raise DomainError("Only a supervisor can reopen a case.")
    # Consent may also have been withdrawn after the case closed for another reason.
    if locked.closure_reason == ClosureReason.CONSENT_WITHDRAWN or locked.referral.consent.is_withdrawn:
        raise DomainError("Consent was withdrawn: this case cannot be reopened.")
    # Anonymised after the retention period: retention erases a patient once, so nothing new may be written.
    if locked.referral.patient.redacted_at:
        raise DomainError(
            "The patient's details were removed after the retention period: this case cannot be reopened."
        )
    locked = case_transition(
        case=locked,
        to_state=CaseState.IN_PROGRESS if locked.first_contact_at else CaseState.AWAITING_CONTACT,
        actor=actor,
        reason=reason,
    )
    locked.issues.filter(status=CaseIssue.Status.CLOSED_WITH_CASE).update(
        status=CaseIssue.Status.OPEN, resolved_at=None, updated_at=timezone.now()
    )
    refresh_next_deadline([locked.pk])
    clean_and_save(CaseNote(case=locked, kind=CaseNote.Kind.INTERNAL, author=actor, text=f"Reopened: {reason.strip()}"))
    audit_record(actor=actor, action=Action.TRANSITION, obj=locked, summary="reopened")
    return locked


@transaction.atomic
def case_stop_for_consent_withdrawal(*, case: Case, actor) -> Case:
    """An advisor records a withdrawal of consent from the case page: it is recorded on the referral
    (cancelled, patient erased), which stops this case through `case_stop_after_consent_withdrawal`."""
    locked = lock_case(case, actor=actor, must_be_open=False)
    if locked.referral.consent.is_withdrawn:
        _stop_case(locked, actor=actor)
        referrals_erase(referral_ids=[locked.referral_id], reason=ErasureReason.CONSENT_WITHDRAWN, actor=actor)
    else:
        consent_withdraw(referral=locked.referral, actor=actor)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def case_stop_after_consent_withdrawal(*, referral, actor) -> Case | None:
    """Consent was withdrawn on the referral, by the referrer or an advisor (whose right to do so the
    referrals app checked): close the case as 'consent withdrawn' and stop its open work. The erasure path
    (`casework.services.erasure`, called by the referrals app next) removes what it holds about the patient."""
    case = Case.objects.select_for_update(of=("self",)).filter(referral=referral).first()
    if case is not None:
        case = _stop_case(case, actor=actor)
    return case


def _stop_case(locked: Case, *, actor) -> Case:
    if locked.is_open:
        locked = case_transition(
            case=locked, to_state=CaseState.CLOSED, actor=actor, closure_reason=ClosureReason.CONSENT_WITHDRAWN
        )
    settled = _stop_open_work(locked, actor=actor)
    audit_record(actor=actor, action=Action.REDACT, obj=locked, summary=f"consent withdrawn: case stopped; {settled}")
    return locked
