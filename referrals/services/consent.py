"""A withdrawal of consent: work and messages stop, the referral is cancelled, the patient is redacted."""

from django.db import transaction
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import REDACTED
from hjp.notifications.services import messages_stop_for_referral
from referrals import permissions
from referrals.models import Patient, Referral, ReferralStatus
from referrals.services.transitions import CONSENT_WITHDRAWN_REASON, _referral_cancel_for_consent
from referrals.signals import consent_withdrawn

S = ReferralStatus


def _redact_patient(patient: Patient) -> None:
    """Blank what identifies the patient; keep what aggregate statistics count (sex, ethnicity, decile)."""
    for name in ("address", "postcode", "phone", "email", "contact_times", "access_needs", "nhs_number", "language"):
        setattr(patient, name, "")
    patient.given_name = "Redacted"
    patient.family_name = "patient"
    patient.date_of_birth = None
    patient.preferred_contact_method = ""
    patient.may_leave_message = False
    patient.redacted_at = timezone.now()
    patient.save()


@transaction.atomic
def consent_withdraw(*, referral: Referral, actor, note: str = "") -> Referral:
    """Record a withdrawal of consent: work stops, the referral is cancelled, the patient is redacted.

    Counts for aggregate statistics remain (the referral, its dates, states and categories)."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related("patient", "consent").get(pk=referral.pk)
    if not permissions.can_withdraw_consent(actor, referral):
        raise DomainError("Consent for this referral cannot be withdrawn: it is already withdrawn or never sent.")
    now = timezone.now()
    consent = referral.consent
    consent.withdrawn_at = now
    consent.withdrawn_by = actor
    consent.withdrawal_note = note.strip()
    # A named representative (often a relative) identifies the patient as surely as their own name does.
    consent.representative_name = ""
    consent.representative_authority = ""
    consent.save()
    if referral.status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS):
        _referral_cancel_for_consent(referral=referral, actor=actor)
    referral.description = REDACTED
    referral.known_deadline_note = ""
    referral.duplicate_reason = ""
    referral.save(update_fields=["description", "known_deadline_note", "duplicate_reason", "updated_at"])
    # The timeline keeps who moved the referral and when; the reasons people typed may describe the patient.
    referral.status_changes.exclude(reason__in=["", CONSENT_WITHDRAWN_REASON]).update(reason=REDACTED)
    _redact_patient(referral.patient)
    messages_stop_for_referral(referral_id=referral.pk)
    consent_withdrawn.send(sender=Referral, referral=referral, actor=actor)
    audit_record(actor=actor, action=AuditEvent.Action.REDACT, obj=referral, summary="consent withdrawn")
    referral.refresh_from_db()
    return referral
