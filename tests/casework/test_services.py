from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework import selectors, services
from casework.models import (
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    ClosureReason,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from hjp.audit.models import AuditEvent
from hjp.core.dates import start_of_today
from hjp.core.errors import DomainError
from referrals.models import CaseStatus, ProblemCategory, ProblemSubCategory, ReferralStatus
from tests import factories
from tests.support.documents import pdf_bytes

PDF = pdf_bytes()

pytestmark = pytest.mark.django_db


def _audited(obj, action) -> bool:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action).exists()


# --- triage -------------------------------------------------------------------------------------------------


def test_accepting_opens_a_case_for_the_advisor_with_the_referrals_problems(referral, advisor_user):
    case = services.referral_accept(referral=referral, actor=advisor_user)

    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.case_status == CaseStatus.AWAITING_FIRST_CONTACT
    assert case.advisor == advisor_user and case.state == CaseState.AWAITING_CONTACT and case.version == 1
    assert [i.category.code for i in case.issues.all()] == ["benefits"]
    assert _audited(case, AuditEvent.Action.CREATE)


def test_a_supervisor_assigns_a_new_case_to_a_named_advisor(referral, supervisor_user, advisor_user):
    case = services.referral_accept(referral=referral, actor=supervisor_user, advisor=advisor_user)
    assert case.advisor == advisor_user


def test_an_advisor_cannot_assign_a_new_case_to_someone_else(referral, advisor_user, advice_org):
    colleague = factories.advisor(advice_org)
    with pytest.raises(DomainError, match="supervisor"):
        services.referral_accept(referral=referral, actor=advisor_user, advisor=colleague)
    assert not Case.objects.exists()


def test_a_case_cannot_go_to_an_advisor_of_another_service(referral, supervisor_user, other_advisor):
    with pytest.raises(DomainError, match="advisor of this advice service"):
        services.referral_accept(referral=referral, actor=supervisor_user, advisor=other_advisor)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED


def test_an_advisor_of_another_service_cannot_accept(referral, other_advisor):
    with pytest.raises(DomainError):
        services.referral_accept(referral=referral, actor=other_advisor)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED and not Case.objects.exists()


def test_a_referral_is_accepted_only_once(case, referral, supervisor_user):
    with pytest.raises(DomainError):
        services.referral_accept(referral=referral, actor=supervisor_user)
    assert Case.objects.count() == 1


def test_declining_puts_the_reason_and_explanation_in_the_timeline(referral, advisor_user):
    services.referral_decline(
        referral=referral,
        actor=advisor_user,
        reason="out_of_area",
        explanation="Try Northtown Advice on 0113 000 0000.",
    )
    referral.refresh_from_db()
    change = referral.status_changes.last()
    assert referral.status == ReferralStatus.DECLINED
    assert (change.decline_reason, change.reason) == ("out_of_area", "Try Northtown Advice on 0113 000 0000.")
    assert change.full_reason == "Patient lives outside our area. Try Northtown Advice on 0113 000 0000."


def test_a_decline_needs_a_reason_from_the_list(referral, advisor_user):
    with pytest.raises(DomainError, match="Choose a reason for declining from the list."):
        services.referral_decline(referral=referral, actor=advisor_user, reason="because", explanation="No.")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED and not referral.status_changes.filter(to_status="declined")


def test_redirecting_records_the_onward_referral_and_names_the_provider(referral, advisor_user, provider):
    onward = services.referral_redirect(
        referral=referral, actor=advisor_user, provider=provider, note="They have an immigration specialist."
    )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REDIRECTED
    assert referral.status_changes.last().reason == "Passed to City Law Centre. They have an immigration specialist."
    assert onward.case is None and onward.provider == provider


def test_consent_is_not_withdrawn_from_a_redirected_referral_no_work_is_left_to_stop(referral, advisor_user, provider):
    from referrals.services import consent_withdraw

    services.referral_redirect(
        referral=referral, actor=advisor_user, provider=provider, note="Needs an immigration specialist."
    )
    with pytest.raises(DomainError, match="cannot be withdrawn"):
        consent_withdraw(referral=referral, actor=referral.referrer)
    referral.refresh_from_db()
    assert not referral.consent.is_withdrawn and referral.status == ReferralStatus.REDIRECTED


def test_redirecting_needs_a_provider_from_the_services_own_directory(referral, advisor_user):
    elsewhere = factories.AdviceProviderFactory()
    with pytest.raises(DomainError, match="directory"):
        services.referral_redirect(referral=referral, actor=advisor_user, provider=elsewhere, note="x")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED and not OnwardReferral.objects.exists()


def test_first_contact_moves_the_case_and_referral_to_in_progress(case, advisor_user, referral):
    when = timezone.now() - timedelta(hours=1)
    services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="Spoke to her.", occurred_at=when, first_contact=True
    )
    case.refresh_from_db()
    referral.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS and case.first_contact_at == when and case.version == 2
    assert referral.status == ReferralStatus.IN_PROGRESS
    assert referral.case_status == CaseStatus.GATHERING_EVIDENCE


def test_first_contact_is_recorded_once_and_never_by_an_internal_note(case_in_progress, case, advisor_user):
    with pytest.raises(DomainError, match="already recorded"):
        services.case_note_add(
            case=case_in_progress,
            actor=advisor_user,
            kind="call",
            text="x",
            occurred_at=timezone.now(),
            first_contact=True,
        )
    assert CaseNote.objects.count() == 1


def test_an_internal_note_is_not_first_contact(case, advisor_user):
    with pytest.raises(DomainError, match="internal"):
        services.case_note_add(
            case=case, actor=advisor_user, kind="internal", text="x", occurred_at=timezone.now(), first_contact=True
        )
    assert not CaseNote.objects.exists()


# --- optimistic locking -------------------------------------------------------------------------------------


def test_a_stale_save_is_refused_and_changes_nothing(case_in_progress, advisor_user, supervisor_user):
    loaded_version = case_in_progress.version
    services.case_update(
        case=case_in_progress,
        actor=supervisor_user,
        version=loaded_version,
        summary="Supervisor's summary",
        case_status=CaseStatus.CLAIM_LODGED,
    )
    with pytest.raises(services.StaleCaseError) as refused:
        services.case_update(
            case=case_in_progress,
            actor=advisor_user,
            version=loaded_version,
            summary="Advisor's summary",
            case_status="",
        )
    assert refused.value.current.summary == "Supervisor's summary"
    case_in_progress.refresh_from_db()
    assert case_in_progress.summary == "Supervisor's summary"
    assert case_in_progress.version == loaded_version + 1
    assert case_in_progress.referral.case_status == CaseStatus.CLAIM_LODGED


def test_edits_of_issues_and_deadlines_are_versioned_too(case_in_progress, advisor_user):
    issue = case_in_progress.issues.get()
    deadline = factories.DeadlineFactory(case=case_in_progress)
    version = case_in_progress.version
    services.case_issue_resolve(issue=issue, actor=advisor_user, version=version, resolution="Award made")
    with pytest.raises(services.StaleCaseError):
        services.deadline_complete(deadline=deadline, actor=advisor_user, version=version)
    deadline.refresh_from_db()
    assert not deadline.is_done


def test_additions_need_no_version_and_do_not_make_open_forms_stale(case_in_progress, advisor_user):
    version = case_in_progress.version
    services.case_note_add(
        case=case_in_progress, actor=advisor_user, kind="letter", text="Wrote to DWP.", occurred_at=timezone.now()
    )
    services.appointment_book(
        case=case_in_progress, actor=advisor_user, kind="phone", starts_at=timezone.now() + timedelta(days=2)
    )
    services.case_update(case=case_in_progress, actor=advisor_user, version=version, summary="ok", case_status="")
    case_in_progress.refresh_from_db()
    assert case_in_progress.summary == "ok" and case_in_progress.version == version + 1
    assert case_in_progress.notes.filter(text="Wrote to DWP.").exists()
    assert case_in_progress.appointments.count() == 1


# --- issues, appointments, deadlines ------------------------------------------------------------------------


def test_an_issue_sub_category_must_belong_to_its_category(case_in_progress, advisor_user):
    housing = ProblemCategory.objects.get(code="housing")
    issues_before = case_in_progress.issues.count()
    with pytest.raises(ValidationError) as refused:
        services.case_issue_add(
            case=case_in_progress,
            actor=advisor_user,
            category=housing,
            sub_category=ProblemSubCategory.objects.get(code="pip"),
        )
    assert refused.value.message_dict == {"sub_category": ["That sub-category is not part of Housing."]}
    assert case_in_progress.issues.count() == issues_before
    issue = services.case_issue_add(
        case=case_in_progress,
        actor=advisor_user,
        category=housing,
        sub_category=ProblemSubCategory.objects.get(code="disrepair"),
        description="Damp",
    )
    assert str(issue) == "Housing: Disrepair"


def test_reconsideration_deadline_runs_on_the_appeal_clock(case_in_progress, advisor_user):
    deadline = services.deadline_add(
        case=case_in_progress,
        actor=advisor_user,
        kind=Deadline.Kind.RECONSIDERATION,
        title="",
        basis_date=date(2026, 1, 31),
    )
    assert deadline.due_date == date(2026, 2, 28)
    assert deadline.title == "Mandatory reconsideration due"
    appeal = services.deadline_add(
        case=case_in_progress,
        actor=advisor_user,
        kind=Deadline.Kind.APPEAL,
        title="PIP appeal",
        basis_date=date(2028, 1, 31),
        due_date=date(2030, 1, 1),
    )
    assert appeal.due_date == date(2028, 2, 29)


def test_an_appeal_clock_deadline_needs_its_letter_date(case_in_progress, advisor_user):
    with pytest.raises(DomainError, match="decision letter"):
        services.deadline_add(case=case_in_progress, actor=advisor_user, kind=Deadline.Kind.RECONSIDERATION, title="MR")


def test_recording_attendance(case_in_progress, advisor_user):
    appointment = services.appointment_book(
        case=case_in_progress, actor=advisor_user, kind="in_person", starts_at=timezone.now(), place="Surgery room 4"
    )
    services.appointment_update(
        appointment=appointment,
        actor=advisor_user,
        version=case_in_progress.version,
        kind="in_person",
        starts_at=appointment.starts_at,
        duration_minutes=30,
        place="Surgery room 4",
        attendance="not_attended",
        note="",
    )
    appointment.refresh_from_db()
    assert appointment.attendance == Appointment.Attendance.NOT_ATTENDED


# --- evidence -----------------------------------------------------------------------------------------------


def test_evidence_is_requested_from_the_referrer(case_in_progress, advisor_user, referrer_user):
    evidence = services.evidence_request_create(
        case=case_in_progress,
        actor=advisor_user,
        what_is_needed="Mobility letter",
        due_date=timezone.localdate() + timedelta(days=7),
    )
    assert evidence.requested_from == referrer_user and evidence.state == EvidenceRequest.State.REQUESTED


def test_evidence_requests_are_refused_without_consent_scope_2(advisor_user, health_org, partnership):
    referral = factories.ReferralFactory(
        referring_organisation=health_org, partnership=partnership, consent__medical_evidence=False
    )
    case = services.referral_accept(referral=referral, actor=advisor_user)
    with pytest.raises(DomainError, match="did not consent"):
        services.evidence_request_create(
            case=case, actor=advisor_user, what_is_needed="x", due_date=timezone.localdate()
        )
    assert not EvidenceRequest.objects.exists()


def test_evidence_requests_are_refused_once_consent_is_withdrawn(case_in_progress, advisor_user, referral):
    referral.consent.withdrawn_at = timezone.now()
    referral.consent.save()
    with pytest.raises(DomainError):
        services.evidence_request_create(
            case=case_in_progress, actor=advisor_user, what_is_needed="x", due_date=timezone.localdate()
        )


def test_the_referrer_answers_with_a_document_stored_privately(
    case_in_progress, advisor_user, referrer_user, private_media
):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    upload = SimpleUploadedFile("letter.txt", PDF, content_type="text/plain")
    services.evidence_request_answer(evidence=evidence, actor=referrer_user, text="Attached.", upload=upload)
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.ANSWERED and evidence.answer_file_type == "application/pdf"
    assert evidence.answer_file.name.endswith(".pdf") and "letter" not in evidence.answer_file.name
    assert (private_media / evidence.answer_file.name).exists()
    with evidence.answer_file.open("rb") as stored:
        assert stored.read() == PDF


def test_only_the_referrer_it_is_addressed_to_can_answer(case_in_progress, advice_org, health_org):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    colleague = factories.referrer(health_org)
    with pytest.raises(DomainError):
        services.evidence_request_answer(evidence=evidence, actor=colleague, text="Here")
    with pytest.raises(DomainError):
        services.evidence_request_decline(evidence=evidence, actor=case_in_progress.advisor, reason="No")


def test_the_referrer_can_say_why_they_cannot_provide_evidence(case_in_progress, referrer_user):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    services.evidence_request_decline(evidence=evidence, actor=referrer_user, reason="Not under my care any more.")
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.DECLINED and evidence.answered_by == referrer_user
    with pytest.raises(DomainError):
        services.evidence_request_answer(evidence=evidence, actor=referrer_user, text="Changed my mind")


def test_overdue_is_an_unanswered_request_past_its_date(case_in_progress):
    yesterday = timezone.localdate() - timedelta(days=1)
    evidence = factories.EvidenceRequestFactory(case=case_in_progress, due_date=yesterday)
    assert evidence.is_overdue() and evidence.display_state == "Overdue"


# --- closing, reopening, reallocating, consent --------------------------------------------------------------


def test_closing_closes_the_referral_and_cancels_open_work(case_in_progress, advisor_user, referral):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    future = factories.AppointmentFactory(case=case_in_progress)
    services.case_close(
        case=case_in_progress,
        actor=advisor_user,
        version=case_in_progress.version,
        closure_reason=ClosureReason.WORK_COMPLETED,
        note="Award made.",
    )
    case_in_progress.refresh_from_db()
    referral.refresh_from_db()
    evidence.refresh_from_db()
    future.refresh_from_db()
    assert case_in_progress.state == CaseState.CLOSED and case_in_progress.closure_reason == "work_completed"
    assert referral.status == ReferralStatus.CLOSED
    assert referral.status_changes.last().reason == "Work completed"
    assert evidence.state == EvidenceRequest.State.CANCELLED
    assert future.attendance == Appointment.Attendance.CANCELLED
    with pytest.raises(DomainError, match="closed"):
        services.case_note_add(
            case=case_in_progress, actor=advisor_user, kind="call", text="x", occurred_at=timezone.now()
        )


def test_only_a_supervisor_reopens_and_gives_a_reason(case_in_progress, advisor_user, supervisor_user, referral):
    services.case_close(
        case=case_in_progress,
        actor=advisor_user,
        version=case_in_progress.version,
        closure_reason=ClosureReason.ADVICE_GIVEN,
    )
    case_in_progress.refresh_from_db()
    with pytest.raises(DomainError, match="supervisor"):
        services.case_reopen(
            case=case_in_progress, actor=advisor_user, version=case_in_progress.version, reason="More to do"
        )
    services.case_reopen(
        case=case_in_progress, actor=supervisor_user, version=case_in_progress.version, reason="Tribunal date set"
    )
    case_in_progress.refresh_from_db()
    referral.refresh_from_db()
    assert case_in_progress.state == CaseState.IN_PROGRESS and case_in_progress.closure_reason == ""
    assert referral.status == ReferralStatus.IN_PROGRESS
    assert referral.status_changes.last().reason == "Tribunal date set"


def test_a_case_closed_before_consent_was_withdrawn_cannot_be_reopened(
    case_in_progress, advisor_user, supervisor_user, referral
):
    from referrals.services import consent_withdraw

    services.case_close(
        case=case_in_progress,
        actor=advisor_user,
        version=case_in_progress.version,
        closure_reason=ClosureReason.WORK_COMPLETED,
    )
    consent_withdraw(referral=referral, actor=referral.referrer)
    case_in_progress.refresh_from_db()
    assert case_in_progress.closure_reason == ClosureReason.WORK_COMPLETED
    with pytest.raises(DomainError, match="Consent was withdrawn"):
        services.case_reopen(
            case=case_in_progress, actor=supervisor_user, version=case_in_progress.version, reason="Tribunal date set"
        )
    referral.refresh_from_db()
    case_in_progress.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED and case_in_progress.state == CaseState.CLOSED


def test_a_supervisor_reallocates_within_the_service(case_in_progress, supervisor_user, advice_org, other_advisor):
    colleague = factories.advisor(advice_org)
    services.case_reallocate(
        case=case_in_progress,
        actor=supervisor_user,
        version=case_in_progress.version,
        advisor=colleague,
        note="Holiday cover",
    )
    case_in_progress.refresh_from_db()
    assert case_in_progress.advisor == colleague
    assert case_in_progress.notes.filter(kind="internal", text__contains="Holiday cover").exists()
    with pytest.raises(DomainError):
        services.case_reallocate(
            case=case_in_progress, actor=supervisor_user, version=case_in_progress.version, advisor=other_advisor
        )


def test_reallocating_hands_the_appointments_still_booked_to_the_new_advisor(
    case_in_progress, supervisor_user, advice_org
):
    previous, colleague = case_in_progress.advisor, factories.advisor(advice_org)
    today = start_of_today()
    early_today = factories.AppointmentFactory(case=case_in_progress, starts_at=today + timedelta(minutes=1))
    tomorrow = factories.AppointmentFactory(case=case_in_progress, starts_at=today + timedelta(days=1, hours=10))
    last_week = factories.AppointmentFactory(case=case_in_progress, starts_at=today - timedelta(days=6))
    cancelled = factories.AppointmentFactory(
        case=case_in_progress, starts_at=today + timedelta(days=1), attendance=Appointment.Attendance.CANCELLED
    )
    assert [a.pk for a in selectors.advisor_home(user=previous).appointments_today] == [early_today.pk]
    services.case_reallocate(
        case=case_in_progress, actor=supervisor_user, version=case_in_progress.version, advisor=colleague
    )
    holders = dict(Appointment.objects.values_list("pk", "advisor_id"))
    assert holders[early_today.pk] == holders[tomorrow.pk] == colleague.pk
    assert holders[last_week.pk] == holders[cancelled.pk] == previous.pk
    # The new advisor's day shows the case's appointment today; the previous advisor's no longer does.
    assert [a.pk for a in selectors.advisor_home(user=colleague).appointments_today] == [early_today.pk]
    assert selectors.advisor_home(user=previous).appointments_today == []
    # Booked again for later today by the new advisor: theirs to attend, on their day.
    case_in_progress.refresh_from_db()
    services.appointment_update(
        appointment=cancelled,
        actor=colleague,
        version=case_in_progress.version,
        kind=cancelled.kind,
        starts_at=today + timedelta(minutes=2),
        duration_minutes=cancelled.duration_minutes,
        place=cancelled.place,
        attendance=Appointment.Attendance.BOOKED,
        note="",
    )
    assert Appointment.objects.get(pk=cancelled.pk).advisor_id == colleague.pk
    assert [a.pk for a in selectors.advisor_home(user=colleague).appointments_today] == [early_today.pk, cancelled.pk]


def test_an_advisor_cannot_reallocate(case_in_progress, advisor_user, advice_org):
    with pytest.raises(DomainError, match="supervisor"):
        services.case_reallocate(
            case=case_in_progress,
            actor=advisor_user,
            version=case_in_progress.version,
            advisor=factories.advisor(advice_org),
        )


def test_consent_withdrawal_stops_the_case_and_redacts_it(case_in_progress, advisor_user, referral, referrer_user):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    factories.CaseNoteFactory(case=case_in_progress, text="Lives with her daughter at 3 Mill Lane.")
    services.case_stop_for_consent_withdrawal(case=case_in_progress, actor=advisor_user)
    case_in_progress.refresh_from_db()
    referral.refresh_from_db()
    evidence.refresh_from_db()
    assert referral.status == ReferralStatus.CANCELLED and referral.consent.is_withdrawn
    assert referral.patient.redacted_at is not None
    assert case_in_progress.state == CaseState.CLOSED
    assert case_in_progress.closure_reason == ClosureReason.CONSENT_WITHDRAWN
    assert not case_in_progress.notes.exclude(text=services.REDACTED).exists()
    assert evidence.state == EvidenceRequest.State.CANCELLED
    assert _audited(case_in_progress, AuditEvent.Action.REDACT)
    with pytest.raises(DomainError):
        services.case_reopen(case=case_in_progress, actor=advisor_user, version=case_in_progress.version, reason="x")


def test_a_withdrawal_recorded_on_the_referral_first_can_still_stop_the_case(
    case_in_progress, referrer_user, advisor_user, referral
):
    from referrals.services import consent_withdraw

    consent_withdraw(referral=referral, actor=referrer_user)
    services.case_stop_for_consent_withdrawal(case=case_in_progress, actor=advisor_user)
    case_in_progress.refresh_from_db()
    assert case_in_progress.closure_reason == ClosureReason.CONSENT_WITHDRAWN


def test_onward_referral_during_a_case_is_kept_on_the_case(case_in_progress, advisor_user, provider):
    issue = case_in_progress.issues.get()
    onward = services.onward_referral_make(
        case=case_in_progress,
        actor=advisor_user,
        provider=provider,
        issue=issue,
        note="Specialist PIP tribunal representation",
    )
    assert list(case_in_progress.onward_referrals.all()) == [onward]
    case_in_progress.refresh_from_db()
    assert case_in_progress.state == CaseState.IN_PROGRESS


def test_only_supervisors_keep_the_provider_directory(advisor_user, supervisor_user, advice_org):
    with pytest.raises(DomainError):
        services.provider_save(actor=advisor_user, organisation=advice_org, data={"name": "X"})
    provider = services.provider_save(
        actor=supervisor_user, organisation=advice_org, data={"name": "Shelter", "specialisms": "housing"}
    )
    assert provider.advice_organisation == advice_org
    assert CaseIssue.objects.count() == 0


def test_a_case_with_no_contact_can_be_closed_straight_from_acceptance(case, advisor_user, referral):
    services.case_close(case=case, actor=advisor_user, version=case.version, closure_reason=ClosureReason.NO_CONTACT)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CLOSED


def test_the_database_refuses_a_closed_case_without_a_reason(case):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state=CaseState.CLOSED, closed_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(state=CaseState.IN_PROGRESS)  # no first contact recorded


def test_consent_withdrawal_deletes_uploaded_evidence_once_committed(
    case_in_progress, advisor_user, referrer_user, private_media, django_capture_on_commit_callbacks
):
    evidence = factories.EvidenceRequestFactory(case=case_in_progress)
    services.evidence_request_answer(evidence=evidence, actor=referrer_user, upload=SimpleUploadedFile("a.pdf", PDF))
    evidence.refresh_from_db()
    stored = private_media / evidence.answer_file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.case_stop_for_consent_withdrawal(case=case_in_progress, actor=advisor_user)
    evidence.refresh_from_db()
    assert not evidence.answer_file and not stored.exists()


@pytest.mark.django_db
def test_a_withdrawal_recorded_by_the_referrer_also_stops_the_case(case_in_progress):
    from casework.models import CaseState, ClosureReason
    from referrals.services import consent_withdraw

    referral = case_in_progress.referral
    consent_withdraw(referral=referral, actor=referral.referrer)
    case_in_progress.refresh_from_db()
    assert case_in_progress.state == CaseState.CLOSED
    assert case_in_progress.closure_reason == ClosureReason.CONSENT_WITHDRAWN
    assert set(case_in_progress.notes.values_list("text", flat=True)) == {services.REDACTED}


@pytest.mark.django_db
def test_first_contact_is_never_before_the_referral_was_sent(case, advisor_user):
    sent = case.referral.submitted_at
    with pytest.raises(DomainError, match="before the referral was sent"):
        services.case_note_add(
            case=case,
            actor=advisor_user,
            kind="call",
            text="Called.",
            occurred_at=sent - timedelta(days=2),
            first_contact=True,
        )
    # A time typed to the minute, just before the submission, counts as the moment of submission.
    services.case_note_add(
        case=case,
        actor=advisor_user,
        kind="call",
        text="Called.",
        occurred_at=sent - timedelta(seconds=40),
        first_contact=True,
    )
    case.refresh_from_db()
    assert case.first_contact_at == sent
