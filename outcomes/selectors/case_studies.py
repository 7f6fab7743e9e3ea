"""Case studies: the reads. What each user may read is `CaseStudy.objects.visible_to`; the funder report shows
only the stories a manager included, never who wrote them or which case they tell."""

from django.db.models import QuerySet

from outcomes.models import CaseStudy, CaseStudyState


def case_study_list(*, user) -> QuerySet[CaseStudy]:
    """The stories the user may read, those waiting for review first, then the newest."""
    return (
        CaseStudy.objects.visible_to(user)
        .select_related("case", "author")
        .order_by("-state", "-created_at", "-pk")
        .exclude(state=CaseStudyState.WITHDRAWN)
    )


def report_case_studies(*, partnership) -> list[dict]:
    """The stories included in the partnership's funder report, oldest included first: title, story and outcome."""
    return list(
        CaseStudy.objects.filter(state=CaseStudyState.INCLUDED, case__referral__partnership_id=partnership.pk)
        .order_by("included_at", "pk")
        .values("title", "story", "outcome_summary")
    )
