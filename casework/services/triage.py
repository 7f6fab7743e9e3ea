"""Triage: accept (opening a case), decline or redirect a submitted referral."""

from django.db import transaction

from casework.models import AdviceProvider, Case, CaseIssue, Deadline, OnwardReferral
from casework.permissions import can_triage, case_workers, is_supervisor_of
from casework.services.common import clean_and_save, refresh_next_deadline, require_worker
from casework.services.lifecycle import case_open
from casework.services.providers import ShareConsent, check_provider, hand_over
from casework.services.records import deadline_due_date
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.dates import format_date
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from referrals.models import DeclineReason, ProblemCategory, Referral, ReferralStatus
from referrals.services import referral_transition

S = ReferralStatus
Action = AuditEvent.Action


@once_per_submission
@transaction.atomic
def referral_accept(*, referral: Referral, actor, advisor=None) -> Case:
    """Accept a submitted referral and open its case, assigned to the actor or (by a supervisor, or by the
    organisation's own system through the API) to another advisor of the same organisation. A system account
    works no case: it names the advisor. The case starts with one issue per problem the referrer ticked."""
    organisation_id = referral.advice_organisation_id
    require_worker(actor, organisation_id)
    if advisor is None and actor.is_system_account:
        raise DomainError("Name the advisor responsible for the case.")
    advisor = advisor or actor
    if advisor.pk != actor.pk and not (is_supervisor_of(actor, organisation_id) or actor.is_system_account):
        raise DomainError("Only a supervisor can assign a new case to someone else.")
    if not case_workers(organisation_id).filter(pk=advisor.pk).exists():
        raise DomainError("A case can only be assigned to an advisor of this advice service.")
    case = case_open(referral=referral, actor=actor, advisor=advisor)
    CaseIssue.objects.bulk_create(CaseIssue(case=case, category=c) for c in referral.categories.all())
    audit_record(actor=actor, action=Action.CREATE, obj=case, summary=f"case opened for {referral.reference}")
    _deadline_from_referral(case, referral, actor=actor)
    return case


def _deadline_from_referral(case: Case, referral: Referral, *, actor) -> Deadline | None:
    """Carry the referral's known deadline to the case as the referrer described it: a benefit decision
    letter's date starts the appeal clock (a mandatory reconsideration due one calendar month later); any other
    date is the deadline itself. The title says what the referrer wrote."""
    date_given, note = referral.known_deadline, referral.known_deadline_note.strip()
    if date_given is None:
        return None
    if referral.known_deadline_from_letter:
        kind = Deadline.Kind.RECONSIDERATION
        issue = case.issues.filter(category__code=ProblemCategory.BENEFITS).first()
        title = f"Mandatory reconsideration due, one month from the decision letter dated {format_date(date_given)}"
    else:
        kind = Deadline.Kind.OTHER
        issues = list(case.issues.all()[:2])
        issue = issues[0] if len(issues) == 1 else None
        title = "Deadline given on the referral"
    if note:
        title = f"{title} (referral: {note})"
    deadline = Deadline(
        case=case,
        issue=issue,
        kind=kind,
        title=title[:200],
        basis_date=date_given if kind in Deadline.APPEAL_CLOCK_KINDS else None,
        due_date=deadline_due_date(kind=kind, basis_date=date_given, due_date=date_given),
    )
    clean_and_save(deadline)
    refresh_next_deadline([case.pk])
    audit_record(actor=actor, action=Action.CREATE, obj=deadline, summary="from the referral's known deadline")
    return deadline


@once_per_submission
@transaction.atomic
def referral_decline(*, referral: Referral, actor, reason: str, explanation: str) -> Referral:
    """Decline at triage. The coded `reason` (a DeclineReason) and the explanation are kept apart on the
    transition: the referrer reads both, and reports count declines by reason."""
    if not can_triage(actor, referral):
        raise DomainError("Only a submitted referral to your advice service can be declined.")
    if reason not in DeclineReason.values:
        raise DomainError("Choose a reason for declining from the list.")
    return referral_transition(
        referral=referral, to_status=S.DECLINED, actor=actor, reason=explanation, decline_reason=reason
    )


@once_per_submission
@transaction.atomic
def referral_redirect(
    *, referral: Referral, actor, provider: AdviceProvider, note: str, share: ShareConsent | None = None
) -> OnwardReferral:
    """Pass a submitted referral to a provider from the organisation's directory. The referrer reads the
    provider's name and the note on the referral's timeline. With `share` (the patient's consent to share with
    the provider) the referral is handed over to it (casework.services.providers.hand_over)."""
    if not can_triage(actor, referral):
        raise DomainError("Only a submitted referral to your advice service can be redirected.")
    check_provider(provider, referral)
    handover = hand_over(referral=referral, actor=actor, provider=provider, share=share)
    referral_transition(
        referral=referral,
        to_status=S.REDIRECTED,
        actor=actor,
        reason=f"Passed to {provider.name}. {note.strip()}",
    )
    onward = OnwardReferral(referral=referral, provider=provider, note=note.strip(), made_by=actor, handover=handover)
    clean_and_save(onward)
    audit_record(actor=actor, action=Action.CREATE, obj=onward, summary="redirected at triage")
    return onward
