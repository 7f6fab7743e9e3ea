"""Triage: accept (opening a case), decline or redirect a submitted referral."""

from django.db import transaction
from django.utils import timezone

from casework.models import AdviceProvider, Case, CaseIssue, DeclineReason, OnwardReferral
from casework.permissions import can_triage, case_workers, is_supervisor_of
from casework.services.common import clean_and_save, new_case_reference, require_worker
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from referrals.models import Referral, ReferralStatus
from referrals.services import referral_transition

S = ReferralStatus
Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def referral_accept(*, referral: Referral, actor, advisor=None, request=None) -> Case:
    """Accept a submitted referral and open its case, assigned to the actor or (by a supervisor) to another
    advisor of the same organisation. The case starts with one issue per problem the referrer ticked."""
    organisation_id = referral.advice_organisation_id
    require_worker(actor, organisation_id)
    advisor = advisor or actor
    if advisor.pk != actor.pk and not is_supervisor_of(actor, organisation_id):
        raise DomainError("Only a supervisor can assign a new case to someone else.")
    if not case_workers(organisation_id).filter(pk=advisor.pk).exists():
        raise DomainError("A case can only be assigned to an advisor of this advice service.")
    referral_transition(referral=referral, to_status=S.ACCEPTED, actor=actor, request=request)
    case = Case(referral=referral, reference=new_case_reference(), advisor=advisor, opened_at=timezone.now())
    clean_and_save(case)
    CaseIssue.objects.bulk_create(CaseIssue(case=case, category=c) for c in referral.categories.all())
    audit_record(actor=actor, action=Action.CREATE, obj=case, summary=f"case opened for {referral.reference}",
                 request=request)
    return case


@transaction.atomic
def referral_decline(*, referral: Referral, actor, reason: str, explanation: str, request=None) -> Referral:
    """Decline at triage. The reason and explanation become the transition's reason the referrer reads."""
    if not can_triage(actor, referral):
        raise DomainError("Only a submitted referral to your advice service can be declined.")
    text = f"{DeclineReason(reason).label}. {explanation.strip()}".strip()
    return referral_transition(referral=referral, to_status=S.DECLINED, actor=actor, reason=text, request=request)


@once_per_submission
@transaction.atomic
def referral_redirect(
    *, referral: Referral, actor, provider: AdviceProvider, note: str, request=None
) -> OnwardReferral:
    """Pass a submitted referral to a provider from the organisation's directory. The referrer reads the
    provider's name and the note on the referral's timeline."""
    if not can_triage(actor, referral):
        raise DomainError("Only a submitted referral to your advice service can be redirected.")
    if provider.advice_organisation_id != referral.advice_organisation_id or not provider.is_active:
        raise DomainError("Choose a provider from your service's directory.")
    referral_transition(
        referral=referral, to_status=S.REDIRECTED, actor=actor, reason=f"Passed to {provider.name}. {note.strip()}",
        request=request,
    )
    onward = OnwardReferral(referral=referral, provider=provider, note=note.strip(), made_by=actor)
    clean_and_save(onward)
    audit_record(actor=actor, action=Action.CREATE, obj=onward, summary="redirected at triage", request=request)
    return onward
