"""Case studies: the reads. What each user may read is `CaseStudy.objects.visible_to`; the funder report shows
only the stories a manager included, never who wrote them or which case they tell."""

from django.db.models import Case, QuerySet, Value, When

from outcomes.models import CaseStudy, CaseStudyState


def case_study_list(*, user) -> QuerySet[CaseStudy]:
    """The stories the user may read, those waiting for review first, then the newest."""
    waiting_first = Case(When(state=CaseStudyState.SUBMITTED, then=Value(0)), default=Value(1))
    return (
        CaseStudy.objects.visible_to(user)
        .exclude(state=CaseStudyState.WITHDRAWN)
        .order_by(waiting_first, "-created_at", "-pk")
    )


def report_case_studies(*, partnership) -> list[dict]:
    """The stories included in the partnership's funder report, oldest included first: title, story and outcome."""
    return list(
        CaseStudy.objects.filter(state=CaseStudyState.INCLUDED, case__referral__partnership_id=partnership.pk)
        .order_by("included_at", "pk")
        .values("title", "story", "outcome_summary")
    )
