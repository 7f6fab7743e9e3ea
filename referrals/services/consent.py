"""A withdrawal of consent: work and messages stop, the referral is cancelled, the patient is erased."""

from django.db import transaction
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason
from referrals import permissions
from referrals.models import Referral, ReferralStatus
from referrals.services.erasure import referrals_erase
from referrals.services.transitions import _referral_cancel_for_consent
from referrals.signals import consent_withdrawn

S = ReferralStatus


@transaction.atomic
def consent_withdraw(*, referral: Referral, actor) -> Referral:
    """Record a withdrawal of consent (scope 1, the whole consent): work and every message stop, the referral
    is cancelled if it was open, the apps above stop what they do (casework closes the case as 'consent
    withdrawn'), and the patient's details and the free text about them are erased by the one erasure path.

    Counts for aggregate statistics remain (the referral, its dates, states and categories)."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related("patient", "consent").get(pk=referral.pk)
    if not permissions.can_withdraw_consent(actor, referral):
        raise DomainError("Consent for this referral cannot be withdrawn: it is already withdrawn or never sent.")
    now = timezone.now()
    consent = referral.consent
    consent.withdrawn_at = now
    consent.withdrawn_by = actor
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
    if referral.status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS):
        _referral_cancel_for_consent(referral=referral, actor=actor)
    consent_withdrawn.send(sender=Referral, referral=referral, actor=actor)
    referrals_erase(referral_ids=[referral.pk], reason=ErasureReason.CONSENT_WITHDRAWN, actor=actor, now=now)
    audit_record(actor=actor, action=AuditEvent.Action.REDACT, obj=referral, summary="consent withdrawn")
    referral.refresh_from_db()
    return referral
