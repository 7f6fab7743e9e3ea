"""Onward referrals during a case, and the directory of partner providers supervisors keep."""

from django.db import transaction

from casework.models import AdviceProvider, Case, CaseIssue, OnwardReferral
from casework.permissions import is_supervisor_of
from casework.services.common import clean_and_save, lock_case
from hjp.accounts.models import Organisation
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission

Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def onward_referral_make(
    *, case: Case, actor, provider: AdviceProvider, note: str, issue: CaseIssue | None = None
) -> OnwardReferral:
    """Refer the patient on for specialist help while the case goes on."""
    locked = lock_case(case, actor=actor)
    if provider.advice_organisation_id != locked.referral.advice_organisation_id or not provider.is_active:
        raise DomainError("Choose a provider from your service's directory.")
    if issue is not None and issue.case_id != locked.pk:
        raise DomainError("That issue belongs to another case.")
    onward = OnwardReferral(
        referral=locked.referral, case=locked, provider=provider, issue=issue, note=note.strip(), made_by=actor
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
    action = Action.CREATE if provider is None else Action.UPDATE
    provider = provider or AdviceProvider(advice_organisation=organisation)
    for name, value in data.items():
        setattr(provider, name, value)
    clean_and_save(provider)
    audit_record(actor=actor, action=action, obj=provider)
    return provider
