"""Casework's part of the one erasure path (`referrals.services.erasure`): what cases hold about a patient.

Registered when the app loads; called with a batch of referrals inside the erasing transaction, with a fixed
number of queries however large the batch. The case's dates, states, closure reason, issue categories and
sub-categories, the kinds and times of notes, appointments and deadlines (and who marked one entered in error,
and when), and the states of evidence requests stay for reports; the text people wrote about the patient (the
reasons for marking a record in error too) and the documents they uploaded go."""

from django.db.models import F

from casework.models import (
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from casework.services.cases import settle_open_work
from hjp.core.file_deletions import stored_files_delete_later
from hjp.core.redaction import placeholder


def cases_erase(*, referral_ids: list[int], reason: str, actor, now) -> None:
    text = placeholder(reason)
    case_ids = list(Case.objects.filter(referral_id__in=referral_ids).order_by().values_list("pk", flat=True))
    # A referral redirected at triage has no case, but its onward referral carries a note about the patient.
    OnwardReferral.objects.filter(referral_id__in=referral_ids).exclude(note=text).update(note=text)
    if not case_ids:
        return
    settle_open_work(case_ids=case_ids, actor=actor, now=now)
    Case.objects.filter(pk__in=case_ids).update(summary="", closure_note="", version=F("version") + 1, updated_at=now)
    CaseNote.objects.filter(case_id__in=case_ids).exclude(text=text).update(text=text)
    # Why a note or an appointment was marked entered in error may describe the patient; a marking keeps its
    # who and when, and a reason it must have (a constraint) becomes the placeholder.
    for model in (CaseNote, Appointment):
        model.objects.filter(case_id__in=case_ids).exclude(entered_in_error_reason="").exclude(
            entered_in_error_reason=text
        ).update(entered_in_error_reason=text)
    CaseIssue.objects.filter(case_id__in=case_ids).update(description="", resolution="", updated_at=now)
    # An appointment in person must say where: the place becomes the placeholder, the kind and time stay.
    Appointment.objects.filter(case_id__in=case_ids).exclude(place="").update(place=text)
    Appointment.objects.filter(case_id__in=case_ids).update(note="", updated_at=now)
    # Titles are free text (one carries the referrer's note on the known deadline); the kinds and dates stay.
    Deadline.objects.filter(case_id__in=case_ids).update(title=text, updated_at=now)
    evidence = EvidenceRequest.objects.filter(case_id__in=case_ids)
    documents = list(evidence.exclude(answer_file="").values_list("answer_file", flat=True))
    # An answer must have content (a constraint): its text becomes the placeholder once the document goes.
    evidence.filter(state=EvidenceRequest.State.ANSWERED).update(answer_text=text)
    evidence.exclude(answer_text="").exclude(state=EvidenceRequest.State.ANSWERED).update(answer_text=text)
    evidence.exclude(decline_reason="").update(decline_reason=text)
    evidence.update(what_is_needed=text, answer_file="", answer_file_type="", updated_at=now)
    # Deleted once the erasure has committed, and again later by a periodic job if the storage fails then.
    stored_files_delete_later(names=documents)
