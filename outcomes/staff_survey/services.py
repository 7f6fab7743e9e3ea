"""Writes for the referrers' survey: one answer per outcome report, in one transaction with its audit entry;
and its part of the one erasure path."""

from django.db import IntegrityError, transaction

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.notifications.models import Message, MessageKind
from outcomes.staff_survey import selectors
from outcomes.staff_survey.models import StaffSurveyResponse
from referrals.models import Referral

Action = AuditEvent.Action


class AlreadyAnsweredError(DomainError):
    def __init__(self):
        super().__init__("Your answer about this outcome report has been received already. Thank you.")


def _check_answerable(report: Message, actor) -> dict:
    """The referral's partnership and organisation when `actor` may answer about `report`: the selectors' one rule
    (answerable_reports); DomainError otherwise."""
    if report.kind != MessageKind.OUTCOME_REPORT or report.recipient_id != actor.pk:
        raise DomainError("Only the referrer an outcome report went to can answer about it.")
    answerable = selectors.answerable_reports(user=actor).filter(pk=report.pk).values("referral_id")
    referral = Referral.objects.filter(pk__in=answerable).values("partnership_id", "referring_organisation_id").first()
    if referral is None:
        raise DomainError("This outcome report can no longer be answered about.")
    return referral


@transaction.atomic
def staff_survey_answer(
    *, outcome_report: Message, actor, usefulness: int, would_refer_again: str, comment: str = ""
) -> StaffSurveyResponse:
    """Record the referrer's answer about the service after `outcome_report`; a second answer about the same
    report is refused (AlreadyAnsweredError), two at once included: they queue on the report's row, and the
    unique constraint stands behind that."""
    report = Message.objects.select_for_update().get(pk=outcome_report.pk)
    referral = _check_answerable(report, actor)
    if StaffSurveyResponse.objects.filter(outcome_report=report).exists():
        raise AlreadyAnsweredError()
    response = StaffSurveyResponse(
        outcome_report=report,
        partnership_id=referral["partnership_id"],
        referring_organisation_id=referral["referring_organisation_id"],
        usefulness=usefulness,
        would_refer_again=would_refer_again,
        comment=(comment or "").strip(),
    )
    response.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        raise AlreadyAnsweredError() from None
    audit_record(actor=actor, action=Action.CREATE, obj=response, summary="referrer's survey answer")
    return response


def staff_survey_erase(*, referral_ids: list[int]) -> None:
    """The patient's details are erased: the comments given after their outcome reports go (a referrer may have
    written about them); the ratings stay for the results. One query."""
    StaffSurveyResponse.objects.filter(
        outcome_report__in=Message.objects.filter(referral_id__in=referral_ids).values("pk")
    ).exclude(comment="").update(comment="")
