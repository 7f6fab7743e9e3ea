"""Onward referrals during a case, and the directory of partner providers supervisors keep. An onward referral
or a redirect made with the patient's consent to share with the provider hands the referral over
(referrals.services.handover): to the provider's triage when it uses hjp, by a single-use link when not."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from casework.models import AdviceProvider, Case, CaseIssue, OnwardReferral, PartnerSend
from casework.oruk import ProviderRecord
from casework.permissions import is_supervisor_of
from casework.services.common import clean_and_save, lock_case
from casework.signals import partner_send_queued
from hjp.accounts.models import Organisation
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from referrals.models import Handover, Referral
from referrals.services import handover_make

Action = AuditEvent.Action


@dataclass(frozen=True)
class ShareConsent:
    """The patient's consent to share the referral with one provider: who gave it, how and when."""

    given_by: str
    method: str
    said_at: datetime


def check_provider(provider: AdviceProvider, referral: Referral) -> None:
    """The provider must be in the referral's advice service's directory, in use and open to referrals."""
    if provider.advice_organisation_id != referral.advice_organisation_id or not provider.is_active:
        raise DomainError("Choose a provider from your service's directory.")
    if provider.capacity == AdviceProvider.Capacity.CLOSED:
        raise DomainError(f"{provider.name} is closed to new referrals: choose another provider.")


def hand_over(*, referral: Referral, actor, provider: AdviceProvider, share: ShareConsent | None) -> Handover | None:
    """Hand the referral over to the provider when the patient agreed to share it with them (else nothing). To a
    provider outside hjp with a FHIR server, the handover is also sent there (`partner_send_queue`)."""
    if share is None:
        return None
    handover = handover_make(
        referral=referral,
        actor=actor,
        provider_name=provider.name,
        to_organisation=provider.partner_organisation,
        consent_given_by=share.given_by,
        consent_method=share.method,
        consent_said_at=share.said_at,
    )
    if provider.sends_by_fhir:
        partner_send_queue(handover=handover, provider=provider, actor=actor)
    return handover


def partner_send_queue(*, handover: Handover, provider: AdviceProvider, actor) -> PartnerSend:
    """One send of the handover to the provider's FHIR server, pending; api sends it after the commit (it listens
    to `casework.signals.partner_send_queued`). Inside the handover's transaction."""
    send = PartnerSend(key=f"handover-{handover.pk}", handover=handover, provider=provider, url=provider.fhir_base_url)
    send.full_clean(exclude=["handover", "provider"])
    send.save()
    audit_record(actor=actor, action=Action.CREATE, obj=send, summary=f"to be sent by FHIR to {provider.name}")
    partner_send_queued.send(sender=PartnerSend, send_id=send.pk)
    return send


@once_per_submission
@transaction.atomic
def onward_referral_make(
    *,
    case: Case,
    actor,
    provider: AdviceProvider,
    note: str,
    issue: CaseIssue | None = None,
    share: ShareConsent | None = None,
) -> OnwardReferral:
    """Refer the patient on for specialist help while the case goes on; with `share`, hand the referral over."""
    locked = lock_case(case, actor=actor)
    check_provider(provider, locked.referral)
    if issue is not None and issue.case_id != locked.pk:
        raise DomainError("That issue belongs to another case.")
    onward = OnwardReferral(
        referral=locked.referral,
        case=locked,
        provider=provider,
        issue=issue,
        note=note.strip(),
        made_by=actor,
        handover=hand_over(referral=locked.referral, actor=actor, provider=provider, share=share),
    )
    clean_and_save(onward)
    audit_record(actor=actor, action=Action.CREATE, obj=onward)
    return onward


@once_per_submission
@transaction.atomic
def provider_save(
    *, actor, organisation: Organisation, data: dict, provider: AdviceProvider | None = None
) -> AdviceProvider:
    """Create or edit a provider in an advice organisation's directory. Supervisors only."""
    if not is_supervisor_of(actor, organisation.pk):
        raise DomainError("Only a supervisor can change the provider directory.")
    if provider is not None and provider.advice_organisation_id != organisation.pk:
        raise DomainError("That provider belongs to another service.")
    partner = data.get("partner_organisation")
    if partner is not None and (partner.kind != Organisation.Kind.ADVICE or partner.pk == organisation.pk):
        raise DomainError("A partner in hjp must be another advice service.")
    action = Action.CREATE if provider is None else Action.UPDATE
    provider = provider or AdviceProvider(advice_organisation=organisation)
    for name, value in data.items():
        setattr(provider, name, value)
    clean_and_save(provider)
    audit_record(actor=actor, action=action, obj=provider)
    return provider


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    problems: tuple[str, ...]


@transaction.atomic
def providers_import(*, actor, organisation: Organisation, records: list[ProviderRecord]) -> ImportResult:
    """Add or update providers in an advice organisation's directory from an Open Referral UK feed: a service
    already imported (by its ORUK id), or kept by hand under the same name, is updated; the rest are added.
    Supervisors only; all or nothing."""
    if not is_supervisor_of(actor, organisation.pk):
        raise DomainError("Only a supervisor can change the provider directory.")
    existing = list(AdviceProvider.objects.select_for_update().filter(advice_organisation=organisation))
    by_oruk_id = {p.oruk_id: p for p in existing if p.oruk_id}
    by_name = {p.name.casefold(): p for p in existing}
    created = updated = 0
    problems = []
    for record in records:
        provider, same_name = by_oruk_id.get(record.oruk_id), by_name.get(record.name.casefold())
        if provider is None and same_name is not None and not same_name.oruk_id:
            provider = same_name  # kept by hand until now: from now on the feed keeps it
        if same_name is not None and same_name is not provider:
            problems.append(f"{record.name}: another provider in the directory has that name; left out.")
            continue
        is_new = provider is None
        provider = provider or AdviceProvider(advice_organisation=organisation)
        for name in ("oruk_id", "name", "specialisms", "area", "phone", "email", "website", "how_to_refer"):
            setattr(provider, name, getattr(record, name))
        provider.capacity = AdviceProvider.Capacity.OPEN if record.open_to_referrals else AdviceProvider.Capacity.CLOSED
        provider.is_active = record.in_use
        try:
            provider.full_clean(exclude=["advice_organisation"], validate_unique=False)
        except ValidationError as error:
            problems.append(f"{record.name}: {' '.join(error.messages)} Left out.")
            continue
        provider.save()
        by_oruk_id[record.oruk_id] = by_name[record.name.casefold()] = provider
        created, updated = created + is_new, updated + (not is_new)
        audit_record(
            actor=actor, action=Action.CREATE if is_new else Action.UPDATE, obj=provider, summary="ORUK import"
        )
    return ImportResult(created=created, updated=updated, problems=tuple(problems))
