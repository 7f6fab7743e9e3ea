"""Medical evidence requests to the referrer, and the referrer's answers."""

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, EvidenceRequest
from casework.permissions import can_answer_evidence
from casework.services.common import clean_and_save, lock_case
from casework.uploads import ALLOWED_EVIDENCE_TYPES, check_evidence_file
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue

Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def evidence_request_create(*, case: Case, actor, what_is_needed: str, due_date: date) -> EvidenceRequest:
    """Ask the referrer for medical evidence, and tell them in their inbox. Refused unless the patient gave
    consent scope 2 and has not withdrawn it."""
    locked = lock_case(case, actor=actor)
    if not locked.referral.consent.allows_evidence_requests:
        raise DomainError("The patient did not consent to the advisor asking the referrer for medical evidence.")
    if due_date < timezone.localdate():
        raise DomainError("The date the evidence is needed by cannot be in the past.")
    referral = locked.referral
    evidence = EvidenceRequest(
        case=locked,
        requested_from=referral.referrer,
        requested_by=actor,
        what_is_needed=what_is_needed.strip(),
        due_date=due_date,
    )
    clean_and_save(evidence)
    message_queue(
        recipient=referral.referrer,
        kind=MessageKind.EVIDENCE_REQUEST,
        key=f"evidence_request:{evidence.pk}:requested",
        subject=render_subject("evidence_request", referral=referral),
        body=render_message("evidence_request", referral=referral, due_date=due_date),
        url=reverse("casework:evidence_detail", args=[evidence.pk]),
        referral_id=referral.pk,
    )
    audit_record(actor=actor, action=Action.CREATE, obj=evidence)
    return evidence


def _lock_evidence_for_answer(evidence: EvidenceRequest, actor) -> EvidenceRequest:
    locked = (
        EvidenceRequest.objects.select_for_update(of=("self",))
        .select_related("case__referral__consent")
        .get(pk=evidence.pk)
    )
    if not can_answer_evidence(actor, locked):
        raise DomainError("This request cannot be answered: it is not addressed to you, or is already closed.")
    return locked


@once_per_submission
@transaction.atomic
def evidence_request_answer(
    *, evidence: EvidenceRequest, actor, text: str = "", upload: UploadedFile | None = None
) -> EvidenceRequest:
    """The referrer answers with text, a document (PDF, PNG or JPEG, at most 10 MB), or both. The document
    is stored under PRIVATE_MEDIA_ROOT with a random name."""
    locked = _lock_evidence_for_answer(evidence, actor)
    if not text.strip() and upload is None:
        raise DomainError("Write an answer, attach a document, or both.")
    if upload is not None:
        try:
            mime = check_evidence_file(upload)
        except ValidationError as exc:
            raise DomainError(exc.messages[0]) from None
        locked.answer_file.save(f"{uuid.uuid4().hex}.{ALLOWED_EVIDENCE_TYPES[mime]}", upload, save=False)
        locked.answer_file_type = mime
    locked.answer_text = text.strip()
    locked.state = EvidenceRequest.State.ANSWERED
    locked.answered_at, locked.answered_by = timezone.now(), actor
    clean_and_save(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="evidence answered")
    return locked


@once_per_submission
@transaction.atomic
def evidence_request_decline(*, evidence: EvidenceRequest, actor, reason: str) -> EvidenceRequest:
    locked = _lock_evidence_for_answer(evidence, actor)
    if not reason.strip():
        raise DomainError("Say why you cannot provide this evidence.")
    locked.decline_reason = reason.strip()
    locked.state = EvidenceRequest.State.DECLINED
    locked.answered_at, locked.answered_by = timezone.now(), actor
    clean_and_save(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="evidence declined")
    return locked


@transaction.atomic
def evidence_requests_cancel_for_consent(*, referral, actor) -> int:
    """The patient withdrew consent scope 2 (the advisor may ask the referrer for medical evidence) on its own:
    the requests still open are cancelled and the referrer is told, each in their inbox. The case goes on.
    Returns how many were cancelled."""
    open_requests = list(
        EvidenceRequest.objects.select_for_update(of=("self",))
        .filter(case__referral=referral, state=EvidenceRequest.State.REQUESTED)
        .select_related("requested_from")
        .order_by("pk")
    )
    for evidence in open_requests:
        evidence.state = EvidenceRequest.State.CANCELLED
        evidence.save(update_fields=["state", "updated_at"])
        message_queue(
            recipient=evidence.requested_from,
            kind=MessageKind.EVIDENCE_REQUEST,
            key=f"evidence_request:{evidence.pk}:cancelled",
            subject=render_subject("evidence_cancelled", referral=referral),
            body=render_message("evidence_cancelled", referral=referral, evidence=evidence),
            url=reverse("casework:evidence_detail", args=[evidence.pk]),
            referral_id=referral.pk,
        )
        audit_record(actor=actor, action=Action.UPDATE, obj=evidence, summary="cancelled: consent scope 2 withdrawn")
    return len(open_requests)
