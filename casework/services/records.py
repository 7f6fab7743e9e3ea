"""What a case records: issues, appointments, and deadlines with the benefit appeal clock."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from casework.models import Appointment, Case, CaseIssue, Deadline
from casework.permissions import can_mark_entered_in_error
from casework.services.common import (
    ENTERED_IN_ERROR_REFUSED,
    bump_version,
    clean_and_save,
    lock_case,
    refresh_next_deadline,
)
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core import appeal_clock
from hjp.core.dates import start_of_today
from hjp.core.errors import DomainError
from hjp.core.models import mark_entered_in_error
from hjp.core.submissions import once_per_submission
from referrals.models import ProblemCategory, ProblemSubCategory

Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def case_issue_add(
    *,
    case: Case,
    actor,
    category: ProblemCategory,
    sub_category: ProblemSubCategory | None = None,
    description: str = "",
) -> CaseIssue:
    locked = lock_case(case, actor=actor)
    issue = CaseIssue(case=locked, category=category, sub_category=sub_category, description=description.strip())
    clean_and_save(issue)
    audit_record(actor=actor, action=Action.CREATE, obj=issue)
    return issue


@transaction.atomic
def case_issue_update(
    *,
    issue: CaseIssue,
    actor,
    version: int,
    category: ProblemCategory,
    sub_category: ProblemSubCategory | None,
    description: str,
) -> CaseIssue:
    locked = lock_case(issue.case, actor=actor, version=version)
    issue = CaseIssue.objects.select_for_update().get(pk=issue.pk, case=locked)
    issue.category, issue.sub_category, issue.description = category, sub_category, description.strip()
    clean_and_save(issue)
    bump_version(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=issue)
    return issue


@transaction.atomic
def case_issue_resolve(*, issue: CaseIssue, actor, version: int, resolution: str) -> CaseIssue:
    locked = lock_case(issue.case, actor=actor, version=version)
    issue = CaseIssue.objects.select_for_update().get(pk=issue.pk, case=locked)
    if issue.status != CaseIssue.Status.OPEN:
        raise DomainError("This issue is already resolved.")
    issue.status = CaseIssue.Status.RESOLVED
    issue.resolved_at = timezone.now()
    issue.resolution = resolution.strip()
    clean_and_save(issue)
    bump_version(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=issue, summary="resolved")
    return issue


@once_per_submission
@transaction.atomic
def appointment_book(
    *,
    case: Case,
    actor,
    kind: str,
    starts_at: datetime,
    duration_minutes: int = 45,
    place: str = "",
    note: str = "",
) -> Appointment:
    locked = lock_case(case, actor=actor)
    appointment = Appointment(
        case=locked,
        kind=kind,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=place.strip(),
        note=note.strip(),
        advisor=locked.advisor,
        booked_by=actor,
    )
    clean_and_save(appointment)
    audit_record(actor=actor, action=Action.CREATE, obj=appointment)
    return appointment


@transaction.atomic
def appointment_update(
    *,
    appointment: Appointment,
    actor,
    version: int,
    kind: str,
    starts_at: datetime,
    duration_minutes: int,
    place: str,
    attendance: str,
    note: str,
) -> Appointment:
    locked = lock_case(appointment.case, actor=actor, version=version)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk, case=locked)
    if appointment.is_entered_in_error:
        raise DomainError("This appointment is marked as booked in error. Book a new one instead.")
    appointment.kind, appointment.starts_at, appointment.duration_minutes = kind, starts_at, duration_minutes
    appointment.place, appointment.attendance, appointment.note = place.strip(), attendance, note.strip()
    if attendance == Appointment.Attendance.BOOKED and starts_at >= start_of_today():
        # Booked from today on: held by the case's advisor, as `case_reallocate` hands them over (their day reads
        # their own diary: casework.selectors.home_appointments).
        appointment.advisor = locked.advisor
    clean_and_save(appointment)
    bump_version(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=appointment, summary=attendance)
    return appointment


def deadline_due_date(*, kind: str, basis_date: date | None, due_date: date | None) -> date:
    """The due date of a deadline: from the appeal clock for reconsiderations and appeals, else as given."""
    if kind == Deadline.Kind.RECONSIDERATION:
        if basis_date is None:
            raise DomainError("Give the date of the decision letter.")
        return appeal_clock.reconsideration_due(basis_date)
    if kind == Deadline.Kind.APPEAL:
        if basis_date is None:
            raise DomainError("Give the date of the mandatory reconsideration notice.")
        return appeal_clock.appeal_due(basis_date)
    if due_date is None:
        raise DomainError("Give a due date.")
    return due_date


@once_per_submission
@transaction.atomic
def deadline_add(
    *,
    case: Case,
    actor,
    kind: str,
    title: str,
    basis_date: date | None = None,
    due_date: date | None = None,
    issue: CaseIssue | None = None,
) -> Deadline:
    locked = lock_case(case, actor=actor)
    if issue is not None and issue.case_id != locked.pk:
        raise DomainError("That issue belongs to another case.")
    due = deadline_due_date(kind=kind, basis_date=basis_date, due_date=due_date)
    deadline = Deadline(
        case=locked,
        kind=kind,
        title=title.strip() or Deadline.Kind(kind).label,
        issue=issue,
        basis_date=basis_date if kind in Deadline.APPEAL_CLOCK_KINDS else None,
        due_date=due,
    )
    clean_and_save(deadline)
    refresh_next_deadline([locked.pk])
    audit_record(actor=actor, action=Action.CREATE, obj=deadline)
    return deadline


@transaction.atomic
def deadline_complete(*, deadline: Deadline, actor, version: int) -> Deadline:
    locked = lock_case(deadline.case, actor=actor, version=version)
    deadline = Deadline.objects.select_for_update().get(pk=deadline.pk, case=locked)
    if deadline.is_done:
        raise DomainError("This is already done.")
    deadline.done_at, deadline.done_by = timezone.now(), actor
    deadline.settlement = Deadline.Settlement.DONE
    clean_and_save(deadline)
    refresh_next_deadline([locked.pk])
    bump_version(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=deadline, summary="done")
    return deadline


@transaction.atomic
def appointment_mark_entered_in_error(*, appointment: Appointment, actor, version: int, reason: str) -> Appointment:
    """Mark an appointment booked in error: kept on the case's timeline, struck through with who and why, and
    no longer the next appointment. By whoever booked it or a supervisor (casework.permissions)."""
    locked = lock_case(appointment.case, actor=actor, version=version, must_be_open=False)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk, case=locked)
    if not can_mark_entered_in_error(actor, appointment, locked):
        raise DomainError(ENTERED_IN_ERROR_REFUSED.format(record="appointment", author="booked it"))
    mark_entered_in_error(appointment, actor=actor, reason=reason, now=timezone.now())
    clean_and_save(appointment)
    bump_version(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=appointment, summary="entered in error")
    return appointment
