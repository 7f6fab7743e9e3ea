"""Medical evidence requests to the referrer, and the referrer's answers."""

import uuid
from datetime import date

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, EvidenceRequest
from casework.permissions import can_answer_evidence, is_evidence_addressee
from casework.services.common import clean_and_save, lock_case
from hjp.accounts.roles import roles_for
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from hjp.core.uploads import DocumentRefused, EvidenceDocument, checked_document
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from referrals.permissions import author_is_current
from referrals.services import advice_side_recipients

Action = AuditEvent.Action
NOT_ANSWERABLE = "This request cannot be answered: it is not addressed to you, or is already closed."


# The attached document was refused; the message says why and what to do (the page shows it on the field).
EvidenceFileRefused = DocumentRefused


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
    if not author_is_current(referral):
        raise DomainError(
            f"{referral.referrer.full_name} is no longer a referrer at {referral.referring_organisation.name}, so "
            "cannot answer a request here. Ask the practice for the evidence another way."
        )
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
        .select_related(
            "case__referral__consent",
            "case__referral__patient",
            "case__referral__referring_organisation",
            "requested_by",
        )
        .get(pk=evidence.pk)
    )
    if not can_answer_evidence(actor, locked):
        raise DomainError(NOT_ANSWERABLE)
    return locked


def evidence_request_answer(
    *,
    evidence: EvidenceRequest,
    actor,
    text: str = "",
    upload: UploadedFile | None = None,
    submission_token: uuid.UUID | None = None,
) -> EvidenceRequest:
    """The referrer answers with text, a document (PDF, PNG or JPEG, at most 10 MB), or both. The document
    is scanned for viruses and checked (hjp/core/uploads.py) before any row is locked, then stored encrypted
    under PRIVATE_MEDIA_ROOT with a random name. A refused document raises EvidenceFileRefused."""
    if not is_evidence_addressee(actor, evidence):  # before any scan; the rest is checked on the locked row
        raise DomainError(NOT_ANSWERABLE)
    document = _checked_document(evidence=evidence, actor=actor, upload=upload) if upload is not None else None
    return _evidence_request_answer_save(
        evidence=evidence, actor=actor, text=text, document=document, submission_token=submission_token
    )


def _checked_document(*, evidence: EvidenceRequest, actor, upload: UploadedFile) -> EvidenceDocument:
    return checked_document(
        upload=upload, actor=actor, obj=evidence, what="evidence document", instead="write your answer instead"
    )


@once_per_submission
@transaction.atomic
def _evidence_request_answer_save(
    *, evidence: EvidenceRequest, actor, text: str, document: EvidenceDocument | None
) -> EvidenceRequest:
    locked = _lock_evidence_for_answer(evidence, actor)
    if not text.strip() and document is None:
        raise DomainError("Write an answer, attach a document, or both.")
    if document is not None:
        locked.answer_file.save(f"{uuid.uuid4().hex}.{document.extension}", ContentFile(document.content), save=False)
        locked.answer_file_type = document.mime
    locked.answer_text = text.strip()
    locked.state = EvidenceRequest.State.ANSWERED
    locked.answered_at, locked.answered_by = timezone.now(), actor
    clean_and_save(locked)
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="evidence answered")
    _tell_the_advice_side(locked, answered=True)
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
    _tell_the_advice_side(locked, answered=False)
    return locked


def _tell_the_advice_side(evidence: EvidenceRequest, *, answered: bool) -> None:
    """The reply (or the referrer's word that they cannot provide it) reaches the advisor who asked, while they
    still work for the advice organisation, and whoever hears about the referral (`advice_side_recipients`: the
    case's advisor), in their inbox and not only on their home page."""
    referral = evidence.case.referral
    recipients = {user.pk: user for user in advice_side_recipients(referral)}
    asker = evidence.requested_by
    if asker.is_active and referral.advice_organisation_id in roles_for(asker).advice_org_ids:
        recipients.setdefault(asker.pk, asker)
    for recipient in recipients.values():
        message_queue(
            recipient=recipient,
            kind=MessageKind.EVIDENCE_REPLY,
            key=f"evidence_request:{evidence.pk}:{'answered' if answered else 'declined'}:user:{recipient.pk}",
            subject=render_subject("evidence_reply", referral=referral, answered=answered),
            body=render_message("evidence_reply", referral=referral, answered=answered),
            url=reverse("casework:evidence_detail", args=[evidence.pk]),
            referral_id=referral.pk,
        )


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
