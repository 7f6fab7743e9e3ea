"""The conversation on a referral: the referrer's side and the advice organisation's staff write to each other,
with a document if need be, and the other side hears of it in their inbox. Who takes part is
`referrals.permissions.thread_side`; a withdrawal of consent (or the retention period's end) closes it, and the
one erasure path (`referrals.services.erasure`) removes what it said."""

import uuid

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse

from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from hjp.core.uploads import DocumentRefused, EvidenceDocument, checked_document
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from referrals import permissions
from referrals.models import Referral, ReferralMessage, ThreadSide

MessageFileRefused = DocumentRefused
NOT_YOURS = "You cannot write on this referral."
MAX_MESSAGE_CHARACTERS = 5000


def advice_side_recipients(referral: Referral) -> list:
    """Who on the advice side hears about a referral (a message from the referrer, an evidence reply, a
    withdrawal of consent): the advisor its case is with, while they still work for the advice organisation;
    while it waits at triage (no case), or when that advisor has left, the organisation's supervisors."""
    workers = get_user_model().objects.filter(
        is_active=True,
        memberships__organisation_id=referral.advice_organisation_id,
        memberships__role__in=[Role.ADVISOR, Role.SUPERVISOR],
    )
    advisor = list(workers.filter(cases__referral_id=referral.pk).distinct().order_by("pk"))
    if advisor:
        return advisor
    return list(workers.filter(memberships__role=Role.SUPERVISOR).distinct().order_by("pk"))


def referral_message_post(
    *,
    referral: Referral,
    actor,
    text: str = "",
    upload: UploadedFile | None = None,
    submission_token: uuid.UUID | None = None,
) -> ReferralMessage:
    """Write on the referral's conversation: text, a document (PDF, PNG or JPEG, at most 10 MB, scanned and
    checked by hjp/core/uploads.py before any row is locked, then stored encrypted), or both. The other side is
    told in their inbox. Refused (DomainError) for anyone with no part in the conversation and once it is
    closed; a refused document raises MessageFileRefused."""
    if permissions.thread_side(actor, referral) is None:
        raise DomainError(NOT_YOURS)
    if reason := permissions.thread_closed_reason(referral):  # before a scan; checked again on the locked row
        raise DomainError(reason)
    document = None
    if upload is not None:
        document = checked_document(
            upload=upload, actor=actor, obj=referral, what="message attachment", instead="write your message instead"
        )
    return _referral_message_save(
        referral=referral, actor=actor, text=text, document=document, submission_token=submission_token
    )


@once_per_submission
@transaction.atomic
def _referral_message_save(
    *, referral: Referral, actor, text: str, document: EvidenceDocument | None
) -> ReferralMessage:
    # The referral's row lock orders this with a withdrawal of consent (which takes it first): a message is
    # either written before the withdrawal, and erased by it, or refused after it. The consent and the patient are
    # read after the lock, in a statement of their own: joined to the locking one, they would be the rows as they
    # were when it began waiting (PostgreSQL re-reads only the locked row), and miss a withdrawal committed meanwhile.
    Referral.objects.select_for_update(of=("self",)).filter(pk=referral.pk).values_list("pk").get()
    locked = Referral.objects.select_related(
        "patient", "consent", "referrer", "referring_organisation", "advice_organisation"
    ).get(pk=referral.pk)
    side = permissions.thread_side(actor, locked)
    if side is None:
        raise DomainError(NOT_YOURS)
    if reason := permissions.thread_closed_reason(locked):
        raise DomainError(reason)
    text = text.strip()
    if not text and document is None:
        raise DomainError("Write a message, attach a document, or both.")
    if len(text) > MAX_MESSAGE_CHARACTERS:
        raise DomainError(f"A message can be at most {MAX_MESSAGE_CHARACTERS} characters long.")
    message = ReferralMessage(referral=locked, author=actor, side=side, text=text)
    if document is not None:
        message.attachment.save(f"{uuid.uuid4().hex}.{document.extension}", ContentFile(document.content), save=False)
        message.attachment_type = document.mime
    message.full_clean()
    message.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=message, summary="message on the referral")
    _tell_the_other_side(message, locked)
    return message


def _tell_the_other_side(message: ReferralMessage, referral: Referral) -> None:
    if message.side == ThreadSide.REFERRER:
        recipients = advice_side_recipients(referral)
        writer_organisation = referral.referring_organisation
    else:
        recipients = [referral.referrer] if permissions.author_is_current(referral) else []
        writer_organisation = referral.advice_organisation
    for recipient in recipients:
        if recipient.pk == message.author_id:
            continue
        message_queue(
            recipient=recipient,
            kind=MessageKind.REFERRAL_MESSAGE,
            key=f"referral_message:{message.pk}:user:{recipient.pk}",
            subject=render_subject("referral_message", referral=referral),
            body=render_message(
                "referral_message",
                referral=referral,
                author=message.author,
                organisation=writer_organisation,
                has_document=bool(message.attachment),
            ),
            url=reverse("referrals:thread", args=[referral.pk]),
            referral_id=referral.pk,
        )


def consent_withdrawn_notify(*, referral: Referral, actor) -> None:
    """Tell the advice side that the patient withdrew their consent (unless they recorded it themselves). Called
    after the erasure, which stops every message about the patient: this one names only the referral's
    reference, so it carries no referral id for a later erasure to find."""
    for recipient in advice_side_recipients(referral):
        if recipient.pk == actor.pk:
            continue
        message_queue(
            recipient=recipient,
            kind=MessageKind.CONSENT_WITHDRAWN,
            key=f"consent_withdrawn:{referral.pk}:user:{recipient.pk}",
            subject=render_subject("consent_withdrawn", referral=referral),
            body=render_message("consent_withdrawn", referral=referral),
            url=reverse("referrals:detail", args=[referral.pk]),
        )
