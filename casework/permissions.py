"""Who may see and do what in casework. Lookups give the same 404 for a missing and a forbidden object."""

from django.db.models import QuerySet
from django.http import Http404

from casework.models import AdviceProvider, Case, EvidenceRequest
from hjp.accounts.models import Membership, Role, User
from hjp.accounts.roles import roles_for
from referrals.models import Referral, ReferralStatus


def require_advice_worker(user) -> None:
    """Advisors and supervisors only; everyone else is told the page does not exist."""
    if not roles_for(user).is_advisor:
        raise Http404("No casework here.")


def require_referrer(user) -> None:
    if not roles_for(user).is_referrer:
        raise Http404("No evidence requests here.")


def is_supervisor_of(user, organisation_id: int) -> bool:
    return organisation_id in roles_for(user).supervisor_org_ids


def _get_or_404(qs: QuerySet, pk, message: str):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(message) from None


def get_case_for_user(user, pk, *, queryset: QuerySet | None = None) -> Case:
    """The case, if it belongs to one of the user's advice organisations; 404 otherwise."""
    qs = queryset if queryset is not None else Case.objects.select_related("referral")
    qs = qs.filter(referral__advice_organisation_id__in=roles_for(user).advice_org_ids)
    return _get_or_404(qs, pk, "No such case.")


def get_triage_referral_for_user(user, pk) -> Referral:
    """A referral sent to the user's advice organisation; 404 otherwise. The caller checks it still waits."""
    qs = Referral.objects.select_related("patient", "consent", "advice_organisation", "referrer").filter(
        advice_organisation_id__in=roles_for(user).advice_org_ids
    ).exclude(status=ReferralStatus.DRAFT)  # a draft has not been sent: the advice service does not know it
    return _get_or_404(qs, pk, "No such referral.")


def get_evidence_request_for_user(user, pk, *, queryset: QuerySet | None = None) -> EvidenceRequest:
    """An evidence request, for the referrer it is addressed to or the case's advice organisation."""
    qs = queryset if queryset is not None else EvidenceRequest.objects.all()
    qs = qs.select_related("case__referral__consent", "requested_from", "requested_by")
    evidence = _get_or_404(qs, pk, "No such evidence request.")
    roles = roles_for(user)
    if evidence.requested_from_id == user.pk or evidence.case.referral.advice_organisation_id in roles.advice_org_ids:
        return evidence
    raise Http404("No such evidence request.")


def is_evidence_addressee(user, evidence: EvidenceRequest) -> bool:
    return evidence.requested_from_id == user.pk


def can_answer_evidence(user, evidence: EvidenceRequest) -> bool:
    return (
        is_evidence_addressee(user, evidence)
        and evidence.state == EvidenceRequest.State.REQUESTED
        and evidence.case.referral.consent.allows_evidence_requests
    )


def get_provider_for_supervisor(user, pk) -> AdviceProvider:
    qs = AdviceProvider.objects.filter(advice_organisation_id__in=roles_for(user).supervisor_org_ids)
    return _get_or_404(qs, pk, "No such provider.")


def case_workers(organisation_id: int) -> QuerySet[User]:
    """The advisors and supervisors of an advice organisation: who a case can be assigned to."""
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(
            organisation_id=organisation_id, role__in=[Role.ADVISOR, Role.SUPERVISOR]
        ).values("user_id"),
    ).order_by("full_name", "email")


def is_case_worker(user, organisation_id: int) -> bool:
    return organisation_id in roles_for(user).advice_org_ids


def can_triage(user, referral: Referral) -> bool:
    return referral.status == ReferralStatus.SUBMITTED and is_case_worker(user, referral.advice_organisation_id)
