"""A withdrawal of consent: work and messages stop, the referral is cancelled, the patient is erased. And
scope 2 or 3 given later or withdrawn on its own, which leaves the referral and its case as they are."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason
from referrals import permissions
from referrals.models import Consent, ConsentChange, ConsentScope, Referral, ReferralStatus
from referrals.services.erasure import referrals_erase
from referrals.services.handover import handovers_stop_for_consent
from referrals.services.thread import consent_withdrawn_notify
from referrals.services.transitions import _referral_cancel_for_consent
from referrals.signals import consent_scope_changed, consent_withdrawn

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
    handovers_stop_for_consent(referral=referral)
    consent_withdrawn.send(sender=Referral, referral=referral, actor=actor)
    referrals_erase(referral_ids=[referral.pk], reason=ErasureReason.CONSENT_WITHDRAWN, actor=actor, now=now)
    consent_withdrawn_notify(referral=referral, actor=actor)
    audit_record(actor=actor, action=AuditEvent.Action.REDACT, obj=referral, summary="consent withdrawn")
    referral.refresh_from_db()
    return referral


@transaction.atomic
def consent_scope_change(
    *,
    referral: Referral,
    actor,
    scope: str,
    given: bool,
    method: str,
    said_at: datetime,
    given_by: str = Consent.GivenBy.PATIENT,
    representative_name: str = "",
    note: str = "",
) -> ConsentChange:
    """Record scope 2 or 3 given later, or withdrawn on its own, on the patient's word (who said so, how and
    when), by the referrer's side or the advice side. The referral and its case go on; what the scope allowed
    stops or starts (the apps above listen to `consent_scope_changed`). Not a withdrawal of all consent
    (`consent_withdraw`)."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related("consent").get(pk=referral.pk)
    scope = ConsentScope(scope)
    if not permissions.can_change_consent_scope(actor, referral):
        raise DomainError("Consent for this referral cannot be changed: it was withdrawn, or is not in use.")
    consent = Consent.objects.select_for_update().get(pk=referral.consent.pk)
    if getattr(consent, scope.value) == given:
        raise DomainError(f"That is already so: scope {scope.label[0]} is {'given' if given else 'not given'}.")
    if said_at > timezone.now() + timezone.timedelta(minutes=5):
        raise DomainError("When the patient said so cannot be in the future.")
    representative_name = representative_name.strip() if given_by == Consent.GivenBy.REPRESENTATIVE else ""
    setattr(consent, scope.value, given)
    consent.save(update_fields=[scope.value, "updated_at"])
    change = ConsentChange(
        consent=consent,
        scope=scope,
        given=given,
        given_by=given_by,
        representative_name=representative_name,
        method=method,
        said_at=said_at,
        note=note.strip(),
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    change.full_clean()
    change.save()
    referral.consent = consent
    consent_scope_changed.send(sender=Referral, referral=referral, scope=scope, given=given, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=referral,
        summary=f"consent scope {scope.label[0]} {'given' if given else 'withdrawn'}",
    )
    return change
