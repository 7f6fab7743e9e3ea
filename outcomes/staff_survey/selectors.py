"""Reads for the referrers' survey: the outcome report a referrer may answer about, and the results the advice
service reads (aggregated in the database; a fixed number of queries however many answers)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.urls import reverse

from hjp.accounts.models import Partnership
from hjp.core.lookups import get_visible_or_404
from hjp.notifications import selectors as notification_selectors
from hjp.notifications.models import Message, MessageKind
from outcomes import disclosure
from outcomes.staff_survey.models import USEFULNESS_CHOICES, StaffSurveyResponse, WouldReferAgain
from outcomes.staff_survey.permissions import results_partnerships_q
from referrals.models import Referral

# The comments the results page lists, newest first.
COMMENTS_SHOWN = 50


def answerable_reports(*, user):
    """The outcome reports in the user's inbox they may answer about: still about a referral they see, whose
    patient has not withdrawn consent; each with `answered`."""
    referrals = Referral.objects.visible_to(user).filter(consent__withdrawn_at__isnull=True).values("pk")
    return (
        notification_selectors.inbox(user=user)
        .filter(kind=MessageKind.OUTCOME_REPORT, stopped_at__isnull=True, referral_id__in=referrals)
        .annotate(answered=Exists(StaffSurveyResponse.objects.filter(outcome_report=OuterRef("pk"))))
    )


def get_outcome_report_for_survey(user, pk) -> Message:
    """The outcome report if the user may answer about it (answered or not); 404 for anything else. One query."""
    return get_visible_or_404(answerable_reports(user=user), pk, "No such outcome report.")


def survey_follow_up(*, user, message: Message) -> dict | None:
    """What the inbox shows under an outcome report: the link to rate the service, or that it was rated (one
    query); None where the report cannot be answered about."""
    report = answerable_reports(user=user).filter(pk=message.pk).values("answered").first()
    if report is None:
        return None
    if report["answered"]:
        return {"text": "You rated the service after this outcome report. Thank you.", "url": "", "label": ""}
    return {
        "text": "How useful was the advice service? Tell it in three quick questions (no patient details).",
        "url": reverse("outcomes:staff_survey", args=[message.pk]),
        "label": "Rate the service",
    }


def survey_partnerships(*, user) -> list[Partnership]:
    """The partnerships whose results the user reads, by name. One query."""
    return list(Partnership.objects.filter(results_partnerships_q(user)).order_by("name", "pk"))


def _average(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class OrganisationRow:
    """One referring organisation's answers as shown: a small group, so under the disclosure rule."""

    name: str
    answers: str
    average: Decimal | None
    would_refer_again: str


@dataclass(frozen=True)
class SurveyResults:
    answers: int
    average: Decimal | None
    by_usefulness: list[tuple[str, int]]
    would_refer_again: list[tuple[str, int]]
    organisations: list[OrganisationRow]
    comments: list[dict]


def survey_results(*, partnership: Partnership) -> SurveyResults:
    """The partnership's answers: how many, the average usefulness, the answers to each question, per referring
    organisation (counts and averages under outcomes.disclosure: a practice or ward is a small group, where a
    rating could be told to a person), and the comments, newest first, with no patient or referrer named.
    Three queries."""
    answers = StaffSurveyResponse.objects.filter(partnership=partnership)
    totals = answers.aggregate(
        answers=Count("pk"),
        average=Avg("usefulness"),
        **{f"useful_{value}": Count("pk", filter=Q(usefulness=value)) for value, _ in USEFULNESS_CHOICES},
        **{f"again_{choice.value}": Count("pk", filter=Q(would_refer_again=choice)) for choice in WouldReferAgain},
    )
    rows = (
        answers.values("referring_organisation__name")
        .annotate(
            answers=Count("pk"),
            average=Avg("usefulness"),
            yes=Count("pk", filter=Q(would_refer_again=WouldReferAgain.YES)),
        )
        .order_by("referring_organisation__name")
    )
    organisations = [
        OrganisationRow(
            name=row["referring_organisation__name"],
            answers=disclosure.count_text(row["answers"]),
            average=_average(row["average"]) if disclosure.shows(row["answers"]) else None,
            would_refer_again=disclosure.count_text(row["yes"]),
        )
        for row in rows
    ]
    comments = list(
        answers.exclude(comment="")
        .order_by("-created_at", "-pk")
        .values("comment", "created_at", "usefulness", "would_refer_again")[:COMMENTS_SHOWN]
    )
    labels = dict(WouldReferAgain.choices)
    for comment in comments:
        comment["would_refer_again"] = labels[comment["would_refer_again"]]
    return SurveyResults(
        answers=totals["answers"],
        average=_average(totals["average"]),
        by_usefulness=[(label, totals[f"useful_{value}"]) for value, label in USEFULNESS_CHOICES],
        would_refer_again=[(choice.label, totals[f"again_{choice.value}"]) for choice in WouldReferAgain],
        organisations=organisations,
        comments=comments,
    )
