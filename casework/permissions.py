"""What a user may do in casework. Who may see a case is `Case.objects.visible_to(user)`, written once in the
model's QuerySet; lookups here narrow to it and give the same 404 for a missing and a forbidden object."""

from django.db.models import QuerySet

from casework.models import AdviceProvider, Case, CaseNote, EvidenceRequest
from hjp.accounts.models import Membership, Role, User
from hjp.accounts.roles import roles_for
from hjp.core.lookups import get_visible_or_404
from referrals.models import Handover, Referral, ReferralStatus
from referrals.permissions import get_referral_for_user, is_author


def is_supervisor_of(user, organisation_id: int) -> bool:
    return organisation_id in roles_for(user).supervisor_org_ids


def get_case_for_user(user, pk, *, queryset: QuerySet[Case] | None = None) -> Case:
    """The case if the user may see it (`Case.objects.visible_to`); 404 whether it is missing or forbidden."""
    qs = queryset if queryset is not None else Case.objects.select_related("referral")
    return get_visible_or_404(qs.visible_to(user), pk, "No such case.")


def get_triage_referral_for_user(user, pk) -> Referral:
    """A referral sent to the user's advice organisation; 404 otherwise. The caller checks it still waits."""
    qs = Referral.objects.received_by(user).select_related("patient", "consent", "advice_organisation", "referrer")
    return get_referral_for_user(user, pk, queryset=qs)


def get_evidence_request_for_user(user, pk, *, queryset: QuerySet | None = None) -> EvidenceRequest:
    """An evidence request, for the referrer it is addressed to or those who may see its case."""
    qs = queryset if queryset is not None else EvidenceRequest.objects.all()
    qs = qs.select_related("case__referral__consent", "requested_from", "requested_by").visible_to(user)
    return get_visible_or_404(qs, pk, "No such evidence request.")


def is_evidence_addressee(user, evidence: EvidenceRequest) -> bool:
    """The referrer the request is addressed to, while they are still its referral's author
    (`referrals.permissions.is_author`)."""
    return evidence.requested_from_id == user.pk and is_author(user, evidence.case.referral)


def can_answer_evidence(user, evidence: EvidenceRequest) -> bool:
    return (
        is_evidence_addressee(user, evidence)
        and evidence.state == EvidenceRequest.State.REQUESTED
        and evidence.case.referral.consent.allows_evidence_requests
    )


def get_provider_for_supervisor(user, pk) -> AdviceProvider:
    qs = AdviceProvider.objects.filter(advice_organisation_id__in=roles_for(user).supervisor_org_ids)
    return get_visible_or_404(qs, pk, "No such provider.")


def get_handover_for_user(user, pk) -> Handover:
    """A handover for the advice workers of either organisation (`Handover.objects.visible_to`); 404 otherwise."""
    qs = Handover.objects.select_related(
        "referral__patient", "referral__consent", "from_organisation", "to_organisation", "made_by", "partner_send"
    ).visible_to(user)
    return get_visible_or_404(qs, pk, "No such handover.")


def case_workers(organisation_id: int) -> QuerySet[User]:
    """The advisors and supervisors of an advice organisation: who a case can be assigned to. Not a system
    account (an API client's), which holds the advisor role to act for the organisation but works no case."""
    return User.objects.filter(
        is_active=True,
        is_system_account=False,
        pk__in=Membership.objects.filter(
            organisation_id=organisation_id, role__in=[Role.ADVISOR, Role.SUPERVISOR]
        ).values("user_id"),
    ).order_by("full_name", "email")


def is_case_worker(user, organisation_id: int) -> bool:
    return organisation_id in roles_for(user).advice_org_ids


def can_triage(user, referral: Referral) -> bool:
    return referral.status == ReferralStatus.SUBMITTED and is_case_worker(user, referral.advice_organisation_id)


def can_mark_entered_in_error(user, record, case: Case) -> bool:
    """A note or an appointment can be marked entered in error by whoever wrote or booked it (an appointment
    booked before that was recorded: its advisor), or by a supervisor of the case's advice organisation; open
    or closed case alike, once."""
    organisation_id = case.referral.advice_organisation_id
    if record.is_entered_in_error or not is_case_worker(user, organisation_id):
        return False
    author_id = record.author_id if isinstance(record, CaseNote) else (record.booked_by_id or record.advisor_id)
    return author_id == user.pk or is_supervisor_of(user, organisation_id)
