"""The patient's own voice: with their recorded agreement, the advice service sends the patient a personal,
single-use, expiring link (email, or a text message through GOV.UK Notify) where they complete SWEMWBS
themselves, at the start and at the close, and a short experience survey at the close.

Only a hash of the link's token is stored. The token itself is derived from SECRET_KEY and the link's random
nonce (`link_token`) when the link is sent, so it never sits in the database or in the task queue. The link
row is its own outbox entry: written with the advisor's request, sent by a Celery task after commit, claimed
as *sending* before the send (at most once, like the notifications' emails)."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from casework.models import Case
from casework.permissions import is_case_worker
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from outcomes.models import ExperienceSurvey, PatientLink, PatientVoiceAgreement, WellbeingScore
from referrals.models import Referral

Action = AuditEvent.Action
Moment = WellbeingScore.Moment
TOKEN_SALT = "outcomes.patient_voice.link"
WELSH = "cy"
ENGLISH = "en-gb"


def link_token(nonce: str) -> str:
    """The token in the link of the row with `nonce`: 43 URL-safe characters, only computable with SECRET_KEY."""
    digest = salted_hmac(TOKEN_SALT, nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(link: PatientLink) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("patient_link", args=[link_token(link.nonce)])


def language_for(preferred: str) -> str:
    """The language of the patient's pages from the preferred language recorded for them: Welsh where they
    prefer it, English otherwise (the only two translations shipped)."""
    return WELSH if preferred.strip().lower() in {"welsh", "cymraeg", "cy"} else ENGLISH


def _check_case_worker(case: Case, actor) -> None:
    if not is_case_worker(actor, case.referral.advice_organisation_id):
        raise DomainError("Only advisors of this case's advice service can do this.")
    consent = case.referral.consent
    consent.refresh_from_db(fields=["withdrawn_at"])  # as it is now, not as the caller loaded it
    if consent.is_withdrawn:
        raise DomainError("The patient withdrew their consent: nothing more can be sent to them.")


@transaction.atomic
def patient_voice_agreement_record(*, case: Case, actor, agreed: bool) -> PatientVoiceAgreement:
    """Record whether the patient agreed to be sent their own link (asked by the advice service)."""
    _check_case_worker(case, actor)
    agreement, _ = PatientVoiceAgreement.objects.select_for_update().get_or_create(
        case=case, defaults={"agreed": agreed, "recorded_by": actor}
    )
    agreement.agreed, agreement.recorded_by = agreed, actor
    agreement.full_clean()
    agreement.save()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        obj=agreement,
        summary=f"patient's own link {'agreed' if agreed else 'not agreed'}",
    )
    return agreement


@once_per_submission
@transaction.atomic
def patient_link_send(*, case: Case, actor, moment: str, channel: str) -> PatientLink:
    """Create the patient's link for `moment` and send it by `channel` after commit (Celery)."""
    _check_case_worker(case, actor)
    agreement = PatientVoiceAgreement.objects.filter(case=case).first()
    if agreement is None or not agreement.agreed:
        raise DomainError("Record that the patient agreed before sending them a link.")
    patient = case.referral.patient
    moment = Moment(moment)
    if moment == Moment.START and not case.is_open:
        raise DomainError("The case is closed: send the link for the close instead.")
    if channel == PatientLink.Channel.EMAIL and not patient.email:
        raise DomainError("There is no email address for the patient. Send a text message, or add the address.")
    if channel == PatientLink.Channel.SMS and not patient.phone:
        raise DomainError("There is no phone number for the patient. Send an email, or add the number.")
    nonce = secrets.token_hex(16)
    link = PatientLink(
        case=case,
        moment=moment,
        channel=PatientLink.Channel(channel),
        nonce=nonce,
        token_hash=token_hash(link_token(nonce)),
        language=language_for(patient.language),
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.PATIENT_LINK_DAYS),
    )
    link.full_clean()
    link.save()
    audit_record(actor=actor, action=Action.CREATE, obj=link, summary=f"patient link sent by {channel} ({moment})")
    transaction.on_commit(lambda: enqueue_link_send(link.pk))
    return link


def enqueue_link_send(link_id: int) -> None:
    from outcomes.tasks import send_patient_link

    send_patient_link.delay(link_id)


class LinkSendFailed(Exception):
    """A transient failure of the mail server or Notify: the task retries."""


@transaction.atomic
def _claim_link(link_id: int) -> PatientLink | None:
    link = (
        PatientLink.objects.select_for_update(of=("self",))
        .select_related("case__referral__consent", "case__referral__patient")
        .filter(pk=link_id)
        .first()
    )
    if link is None or link.send_status not in (PatientLink.SendStatus.PENDING, PatientLink.SendStatus.FAILED):
        return None  # sent, being sent, or cancelled: never twice
    if link.case.referral.consent.is_withdrawn:
        link.send_status = PatientLink.SendStatus.CANCELLED
        link.save(update_fields=["send_status", "updated_at"])
        return None
    link.send_status = PatientLink.SendStatus.SENDING
    link.send_attempts += 1
    link.save(update_fields=["send_status", "send_attempts", "updated_at"])
    return link


def patient_link_deliver(*, link_id: int) -> bool:
    """Send one link (the task's body). Idempotent: a link sent, being sent or cancelled is not sent again. The
    row is committed as *sending* before the hand-over and no lock is held while the mail server or Notify
    talks. Raises LinkSendFailed (after recording it) for the task to retry."""
    link = _claim_link(link_id)
    if link is None:
        return False
    try:
        _send(link)
    except Exception as error:
        reason = _failure_reason(error)
        PatientLink.objects.filter(pk=link.pk).update(
            send_status=PatientLink.SendStatus.FAILED, last_error=reason, updated_at=timezone.now()
        )
        raise LinkSendFailed(reason) from error
    PatientLink.objects.filter(pk=link.pk, send_status=PatientLink.SendStatus.SENDING).update(
        send_status=PatientLink.SendStatus.SENT, sent_at=timezone.now(), updated_at=timezone.now()
    )
    return True


def _failure_reason(error: Exception) -> str:
    """Why a send failed, without the patient's address or number: a mail server's refusal quotes the address
    (SMTPRecipientsRefused), and the reason is kept on the link and logged by the task's retry. Our own
    refusals (LinkSendFailed) are written here and kept whole; any other error is named by its kind and, for
    Notify's, its HTTP status."""
    if isinstance(error, LinkSendFailed):
        return str(error)[:300]
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}{f' (HTTP {status})' if status else ''}"


def _send(link: PatientLink) -> None:
    patient = link.case.referral.patient
    expires = timezone.localtime(link.expires_at)
    with translation.override(link.language):
        context = {
            "first_name": patient.given_name,
            "url": link_url(link),
            "expires": expires,
            "organisation": link.case.referral.advice_organisation.name,
        }
        if link.channel == PatientLink.Channel.SMS:
            _notify_client().send_sms_notification(
                phone_number=patient.phone,
                template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                personalisation={
                    "first_name": patient.given_name,
                    "link": context["url"],
                    "expiry_date": expires.strftime("%d/%m/%Y"),
                },
                reference=f"patient-link-{link.pk}",
            )
            return
        send_mail(
            subject=render_to_string("outcomes/patient/link_email_subject.txt", context).strip(),
            message=render_to_string("outcomes/patient/link_email.txt", context),
            from_email=None,
            recipient_list=[patient.email],
        )


def _notify_client():
    from notifications_python_client.notifications import NotificationsAPIClient

    if not settings.NOTIFY_API_KEY:
        raise LinkSendFailed("GOV.UK Notify is not configured (NOTIFY_API_KEY).")
    return NotificationsAPIClient(settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL)


# --- the patient's side -----------------------------------------------------------------------------------


class LinkState:
    OPEN = "open"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class OpenedLink:
    """What the patient's page may know: the link's state and, only while it is open, their first name."""

    state: str
    link: PatientLink | None = None
    first_name: str = ""

    @property
    def is_open(self) -> bool:
        return self.state == LinkState.OPEN

    @property
    def asks_experience(self) -> bool:
        return self.link is not None and self.link.moment == Moment.CLOSE


def _state(link: PatientLink | None) -> str:
    if link is None:
        return LinkState.UNKNOWN
    referral = link.case.referral
    if referral.consent.is_withdrawn or referral.patient.redacted_at is not None:
        return LinkState.WITHDRAWN
    if link.used_at is not None:
        return LinkState.USED
    if link.expires_at <= timezone.now() or link.send_status == PatientLink.SendStatus.CANCELLED:
        return LinkState.EXPIRED
    return LinkState.OPEN


def _links(token: str):
    return PatientLink.objects.select_related("case__referral__consent", "case__referral__patient").filter(
        token_hash=token_hash(token)
    )


def patient_link_open(*, token: str) -> OpenedLink:
    """The link a token opens, and whether it can still be used (one query)."""
    link = _links(token).first()
    state = _state(link)
    if state != LinkState.OPEN:
        return OpenedLink(state=state, link=link)
    return OpenedLink(state=state, link=link, first_name=link.case.referral.patient.given_name)


class LinkRefused(DomainError):
    def __init__(self, state: str):
        super().__init__(state)
        self.state = state


@transaction.atomic
def patient_link_submit(
    *, token: str, items: list[int], easy_to_get_help: str = "", made_a_difference: str = "", comments: str = ""
) -> PatientLink:
    """Record what the patient answered through their link, once: the link row is locked, so of two
    submissions at once one records and the other is refused as used (LinkRefused). The score is recorded as
    self-reported and replaces an advisor's score of the same moment (the patient's own answer wins).

    The referral is locked first, as a withdrawal of consent locks it before it erases: so a withdrawal either
    finishes first (and the link is refused) or waits for the answers (and erases them). Two links of the same
    case (sent by email and by text) answered at once also queue there, the second replacing the first's."""
    referral_id = PatientLink.objects.filter(token_hash=token_hash(token)).values_list("case__referral_id", flat=True)
    if not (referral_id := referral_id.first()):
        raise LinkRefused(LinkState.UNKNOWN)
    Referral.objects.select_for_update(of=("self",)).filter(pk=referral_id).values_list("pk").first()
    link = _links(token).select_for_update(of=("self",)).first()
    state = _state(link)
    if state != LinkState.OPEN:
        raise LinkRefused(state)
    if len(items) != 7 or any(not 1 <= int(i) <= 5 for i in items):
        raise DomainError("The wellbeing scale has 7 items, each scored from 1 to 5.")
    score = WellbeingScore.objects.select_for_update().filter(case=link.case, moment=link.moment).first()
    replaced = score is not None
    score = score or WellbeingScore(case=link.case, moment=link.moment)
    for i, value in enumerate(items, 1):
        setattr(score, f"item_{i}", int(value))
    score.total = sum(int(v) for v in items)
    score.recorded_by, score.self_reported = None, True
    score.full_clean()
    score.save()
    if link.moment == Moment.CLOSE:
        survey = ExperienceSurvey.objects.filter(case=link.case).first() or ExperienceSurvey(case=link.case)
        survey.easy_to_get_help, survey.made_a_difference, survey.comments = (
            easy_to_get_help,
            made_a_difference,
            comments,
        )
        survey.full_clean()
        survey.save()
    link.used_at = timezone.now()
    link.save(update_fields=["used_at", "updated_at"])
    audit_record(
        actor=None,
        action=Action.UPDATE,
        obj=link,
        summary=f"patient answered through link {link.pk} ({link.moment}){'; replaced the advisor score' if replaced else ''}",
    )
    return link


def patient_links_erase(*, referral_ids: list[int]) -> None:
    """On withdrawal or retention: blank the experience survey's free text and any send failure's reason (a
    mail server's refusal may have quoted the address), and stop links not yet sent."""
    ExperienceSurvey.objects.filter(case__referral_id__in=referral_ids).update(comments="")
    PatientLink.objects.filter(case__referral_id__in=referral_ids).exclude(last_error="").update(last_error="")
    PatientLink.objects.filter(
        case__referral_id__in=referral_ids,
        send_status__in=[PatientLink.SendStatus.PENDING, PatientLink.SendStatus.FAILED],
    ).update(send_status=PatientLink.SendStatus.CANCELLED)
