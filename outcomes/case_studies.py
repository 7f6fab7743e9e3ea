"""Case studies: the writes. An advisor writes an anonymised story of a case once the patient's agreement is
recorded; a supervisor of the same advice service approves it or returns it with a comment; a manager of the
partnership includes approved stories in the funder report (or leaves them out again). A withdrawal of the
patient's agreement, or of their consent, or the end of the retention period, withdraws the story and erases its
text. Every change of state goes through `case_study_transition` and its one table, with an audit entry.
Who may do what is outcomes.permissions; this module trusts its caller to have asked."""

from django.db import transaction
from django.utils import timezone

from casework.models import Case
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason, placeholder
from hjp.core.submissions import once_per_submission
from outcomes.models import CaseStudy, CaseStudyState
from referrals.models import Referral

S = CaseStudyState
CASE_STUDY_TRANSITIONS = {
    S.SUBMITTED: {S.APPROVED, S.RETURNED, S.WITHDRAWN},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
    S.APPROVED: {S.INCLUDED, S.WITHDRAWN},
    S.INCLUDED: {S.APPROVED, S.WITHDRAWN},
    S.WITHDRAWN: set(),
}


class CaseStudyRefused(DomainError):
    pass


def _refuse_after_withdrawal(case: Case) -> None:
    """Refuse once consent is withdrawn, read under the referral's row lock, which a withdrawal takes too: a story
    is never written after the erasure that withdrew the others."""
    referral = (
        Referral.objects.select_for_update(of=("self",)).select_related("consent", "patient").get(pk=case.referral_id)
    )
    if referral.consent.is_withdrawn:
        raise CaseStudyRefused("The patient withdrew their consent, so no story of this case can be written.")
    if referral.patient.redacted_at is not None:
        raise CaseStudyRefused("The patient's details were removed at the end of the retention period: no story.")


@transaction.atomic
def case_study_transition(*, story: CaseStudy, to: str, actor, comment: str = "") -> CaseStudy:
    """Move `story` to `to` if the table allows it from where it is now (read under a row lock, so two
    reviewers at once cannot both move it), recording who and when; refused with a clear message otherwise."""
    locked = CaseStudy.objects.select_for_update().get(pk=story.pk)
    to = CaseStudyState(to)
    if to not in CASE_STUDY_TRANSITIONS[CaseStudyState(locked.state)]:
        raise CaseStudyRefused(
            f"This story is {locked.get_state_display().lower()} now, so it cannot be "
            f"{'moved to ' + to.label.lower() if to != S.WITHDRAWN else 'withdrawn'}."
        )
    now = timezone.now()
    if to in (S.APPROVED, S.RETURNED) and locked.state == S.SUBMITTED:
        locked.reviewed_by, locked.reviewed_at, locked.review_comment = actor, now, comment
    if to == S.INCLUDED:
        locked.included_by, locked.included_at = actor, now
    if to == S.APPROVED and locked.state == S.INCLUDED:
        locked.included_by = locked.included_at = None
    if to == S.WITHDRAWN:
        locked.withdrawn_at = now
        locked.included_by = locked.included_at = None
        text = placeholder(ErasureReason.CONSENT_WITHDRAWN)
        locked.title = locked.story = locked.outcome_summary = text
        locked.review_comment = ""
    previous = locked.get_state_display()
    locked.state = to
    locked.full_clean()
    locked.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.TRANSITION, obj=locked, summary=f"case study: {previous} -> {to.label}"
    )
    return locked


@once_per_submission
@transaction.atomic
def case_study_write(
    *, case: Case, actor, title: str, story: str, outcome_summary: str, agreement_method: str
) -> CaseStudy:
    """A new story, submitted for review, with the patient's agreement recorded now by `actor`."""
    _refuse_after_withdrawal(case)
    now = timezone.now()
    written = CaseStudy(
        case=case,
        author=actor,
        title=title,
        story=story,
        outcome_summary=outcome_summary,
        agreement_method=agreement_method,
        agreement_recorded_by=actor,
        agreement_recorded_at=now,
    )
    written.full_clean()
    written.save()
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=written, summary="case study submitted")
    return written


@transaction.atomic
def case_study_revise(*, story: CaseStudy, actor, title: str, story_text: str, outcome_summary: str) -> CaseStudy:
    """The author's changes to a returned story, submitted for review again."""
    _refuse_after_withdrawal(story.case)
    CaseStudy.objects.filter(pk=story.pk, state=S.RETURNED).update(
        title=title, story=story_text, outcome_summary=outcome_summary
    )
    return case_study_transition(story=story, to=S.SUBMITTED, actor=actor)


def case_study_review(*, story: CaseStudy, actor, approve: bool, comment: str = "") -> CaseStudy:
    if not approve and not comment.strip():
        raise CaseStudyRefused("Say what the advisor should change.")
    return case_study_transition(story=story, to=S.APPROVED if approve else S.RETURNED, actor=actor, comment=comment)


def case_study_include(*, story: CaseStudy, actor, include: bool) -> CaseStudy:
    return case_study_transition(story=story, to=S.INCLUDED if include else S.APPROVED, actor=actor)


def case_study_withdraw(*, story: CaseStudy, actor) -> CaseStudy:
    """The patient no longer agrees to their story being used: it is withdrawn and its text erased."""
    return case_study_transition(story=story, to=S.WITHDRAWN, actor=actor)


def case_studies_erase(*, referral_ids: list[int], reason: str, now) -> None:
    """The case studies' part of the one erasure path (called by outcomes_erase): every story of these referrals
    is withdrawn, out of the funder report, and its text becomes the placeholder."""
    text = placeholder(reason)
    CaseStudy.objects.filter(case__referral_id__in=referral_ids).exclude(state=S.WITHDRAWN, title=text).update(
        state=S.WITHDRAWN,
        withdrawn_at=now,
        included_by=None,
        included_at=None,
        title=text,
        story=text,
        outcome_summary=text,
        review_comment="",
        updated_at=now,
    )
