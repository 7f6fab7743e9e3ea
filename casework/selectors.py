"""Reads for casework. Each takes the acting user and returns only what that user may see."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Coalesce
from django.utils import timezone

from casework.models import (
    OPEN_CASE_STATES,
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    CaseState,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from casework.permissions import case_workers, get_case_for_user
from hjp.accounts.models import User
from hjp.accounts.roles import roles_for
from hjp.core import appeal_clock
from hjp.core.nhs_number import normalise_nhs_number
from referrals.models import KnownDeadlineKind, Referral, ReferralStatus, Urgency


def _week_end(today: date) -> date:
    """The Sunday that ends this week."""
    return today + timedelta(days=6 - today.weekday())


# --- triage -------------------------------------------------------------------------------------------------


def known_deadline_overdue(today: date) -> Q:
    """For a Referral query: the known deadline has passed (`Referral.known_deadline_due` before today). A
    decision letter's reconsideration is overdue when the letter is dated before the first day whose
    reconsideration falls due today or later; computed here so the database needs no month arithmetic."""
    first_letter_still_in_time = appeal_clock.add_calendar_months(today, -1) - timedelta(days=3)
    while appeal_clock.reconsideration_due(first_letter_still_in_time) < today:
        first_letter_still_in_time += timedelta(days=1)
    return Q(known_deadline_kind=KnownDeadlineKind.DECISION_LETTER, known_deadline__lt=first_letter_still_in_time) | (
        ~Q(known_deadline_kind=KnownDeadlineKind.DECISION_LETTER) & Q(known_deadline__lt=today)
    )


def triage_queue(*, user) -> QuerySet[Referral]:
    """Submitted referrals to the user's advice organisations: urgent ones and those whose known deadline has
    passed first, then oldest first. Each carries `known_deadline_due` and `known_deadline_overdue`."""
    overdue = known_deadline_overdue(timezone.localdate())
    queue = Referral.objects.received_by(user).filter(status=ReferralStatus.SUBMITTED)
    return (
        queue.select_related("patient", "referrer", "referring_organisation", "referring_team", "consent")
        .prefetch_related("categories")
        .annotate(
            known_deadline_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
            urgency_rank=SqlCase(
                When(Q(urgency=Urgency.URGENT) | overdue, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("urgency_rank", "submitted_at", "pk")
    )


def triage_counts(*, user) -> dict[str, int]:
    week_ago = timezone.now() - timedelta(days=7)
    return (
        Referral.objects.received_by(user)
        .filter(status=ReferralStatus.SUBMITTED)
        .aggregate(
            waiting=Count("pk"),
            urgent=Count("pk", filter=Q(urgency=Urgency.URGENT)),
            over_a_week=Count("pk", filter=Q(submitted_at__lt=week_ago)),
            interpreter=Count("pk", filter=Q(patient__interpreter_needed=True)),
        )
    )


# --- caseload -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilters:
    scope: str = "mine"  # "mine" or "organisation" (supervisors)
    state: str = ""
    category: int | None = None
    advisor: int | None = None
    due_this_week: bool = False
    evidence_outstanding: bool = False
    q: str = ""
    sort: str = "next_deadline"


CASE_SORTS = {
    "next_deadline": ("next_deadline", "-opened_at"),
    "opened": ("opened_at",),
    "-opened": ("-opened_at",),
    "name": ("referral__patient__family_name", "referral__patient__given_name"),
    "advisor": ("advisor__full_name", "-opened_at"),
}


def _scoped_cases(user, scope: str) -> QuerySet[Case]:
    roles = roles_for(user)
    visible = Case.objects.visible_to(user)
    if scope == "organisation" and roles.supervisor_org_ids:
        return visible.filter(referral__advice_organisation_id__in=roles.supervisor_org_ids)
    return visible.filter(advisor=user)


def case_list(*, user, filters: CaseFilters) -> QuerySet[Case]:
    """The caseload: the user's own cases, or (for supervisors) the organisation's, filtered, searched and
    sorted. Each row carries its next open deadline and count of outstanding evidence requests."""
    today = timezone.localdate()
    open_deadlines = Deadline.objects.filter(case=OuterRef("pk"), done_at__isnull=True)
    outstanding = EvidenceRequest.objects.filter(case=OuterRef("pk"), state=EvidenceRequest.State.REQUESTED)
    qs = (
        _scoped_cases(user, filters.scope)
        .select_related("referral__patient", "advisor", "referral__referring_organisation")
        .annotate(
            next_deadline=Subquery(open_deadlines.order_by("due_date").values("due_date")[:1]),
            evidence_outstanding=Coalesce(
                Subquery(
                    outstanding.order_by().values("case").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
        )
    )
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.category:
        qs = qs.filter(Exists(CaseIssue.objects.filter(case=OuterRef("pk"), category_id=filters.category)))
    if filters.advisor:
        qs = qs.filter(advisor_id=filters.advisor)
    if filters.due_this_week:
        qs = qs.filter(Exists(open_deadlines.filter(due_date__lte=_week_end(today))))
    if filters.evidence_outstanding:
        qs = qs.filter(Exists(outstanding))
    text = (filters.q or "").strip()
    if text:
        match = Q(reference__iexact=text) | Q(referral__reference__iexact=text)
        for word in text.split():
            match |= Q(referral__patient__given_name__icontains=word) | Q(
                referral__patient__family_name__icontains=word
            )
        digits = normalise_nhs_number(text)
        if digits.isdigit():
            match |= Q(referral__patient__nhs_number__startswith=digits)
        qs = qs.filter(match)
    order = CASE_SORTS.get(filters.sort, CASE_SORTS["next_deadline"])
    if order[0] == "next_deadline":
        return qs.order_by(F("next_deadline").asc(nulls_last=True), *order[1:], "-pk")
    return qs.order_by(*order, "-pk")


def case_state_counts(*, user, scope: str) -> dict[str, int]:
    """How many of the scoped cases are in each state, in one query."""
    counts = _scoped_cases(user, scope).aggregate(
        **{state: Count("pk", filter=Q(state=state)) for state in CaseState.values}
    )
    counts["open"] = sum(counts[state] for state in OPEN_CASE_STATES)
    return counts


def open_cases_per_advisor(*, user) -> list[User]:
    """For supervisors: each advisor of their organisations with their open cases counted."""
    roles = roles_for(user)
    if not roles.supervisor_org_ids:
        return []
    workers = User.objects.none()
    for org_id in roles.supervisor_org_ids:
        workers |= case_workers(org_id)
    open_cases = Case.objects.visible_to(user).filter(
        advisor=OuterRef("pk"),
        state__in=OPEN_CASE_STATES,
        referral__advice_organisation_id__in=roles.supervisor_org_ids,
    )
    return list(
        workers.annotate(
            open_cases=Coalesce(
                Subquery(
                    open_cases.order_by().values("advisor").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            )
        ).order_by("full_name")
    )


def advisor_choices(*, user) -> QuerySet[User]:
    """Everyone who works cases in the user's advice organisations (for filters and allocation)."""
    workers = User.objects.none()
    for org_id in roles_for(user).advice_org_ids:
        workers |= case_workers(org_id)
    return workers.order_by("full_name", "email")


# --- advisor home -------------------------------------------------------------------------------------------


@dataclass
class AdvisorHome:
    appointments_today: list
    appointments_week: list
    deadlines: list
    evidence_answers: list
    new_referrals: list
    waiting_count: int


def advisor_home(*, user) -> AdvisorHome:
    """What an advisor needs at the start of the day, across their own open cases."""
    now = timezone.localtime()
    today = now.date()
    mine = Case.objects.visible_to(user).filter(advisor=user, state__in=OPEN_CASE_STATES)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    appointments = list(
        Appointment.objects.filter(
            case__in=mine,
            attendance=Appointment.Attendance.BOOKED,
            entered_in_error_at__isnull=True,
            starts_at__gte=day_start,
            starts_at__lt=day_start + timedelta(days=(_week_end(today) - today).days + 1),
        ).select_related("case__referral__patient")
    )
    tomorrow = day_start + timedelta(days=1)
    deadlines = list(
        Deadline.objects.filter(case__in=mine, done_at__isnull=True, due_date__lte=today + timedelta(days=7))
        .select_related("case__referral__patient")
        .order_by("due_date", "pk")
    )
    evidence = list(
        EvidenceRequest.objects.filter(
            case__in=mine,
            state__in=[EvidenceRequest.State.ANSWERED, EvidenceRequest.State.DECLINED],
            answered_at__gte=now - timedelta(days=14),
        )
        .select_related("case__referral__patient", "requested_from")
        .order_by("-answered_at")
    )
    queue = triage_queue(user=user)
    return AdvisorHome(
        appointments_today=[a for a in appointments if a.starts_at < tomorrow],
        appointments_week=[a for a in appointments if a.starts_at >= tomorrow],
        deadlines=deadlines,
        evidence_answers=evidence,
        new_referrals=list(queue[:5]),
        waiting_count=queue.count(),
    )


# --- the case record ----------------------------------------------------------------------------------------


def case_detail(*, user, pk) -> Case:
    """The case with everything its page shows, in a fixed number of queries."""
    queryset = Case.objects.select_related(
        "advisor",
        "referral__patient",
        "referral__consent__recorded_by",
        "referral__consent__withdrawn_by",
        "referral__referrer",
        "referral__referring_organisation",
        "referral__referring_team",
        "referral__advice_organisation",
        "referral__partnership",
    ).prefetch_related(
        "referral__categories",
        "referral__status_changes__actor",
        "referral__consent__changes__recorded_by",
        Prefetch("issues", queryset=CaseIssue.objects.select_related("category", "sub_category")),
        Prefetch("notes", queryset=CaseNote.objects.select_related("author", "entered_in_error_by")),
        Prefetch("appointments", queryset=Appointment.objects.select_related("advisor", "entered_in_error_by")),
        Prefetch(
            "deadlines", queryset=Deadline.objects.select_related("issue__category", "issue__sub_category", "done_by")
        ),
        Prefetch(
            "evidence_requests", queryset=EvidenceRequest.objects.select_related("requested_from", "requested_by")
        ),
        Prefetch(
            "onward_referrals",
            queryset=OnwardReferral.objects.select_related(
                "provider", "made_by", "issue__category", "issue__sub_category"
            ),
        ),
    )
    return get_case_for_user(user, pk, queryset=queryset)


def case_timeline(case: Case) -> list[dict]:
    """Notes and appointments in one list, newest first. Uses the prefetched rows."""
    items = [{"kind": "note", "at": n.occurred_at, "item": n} for n in case.notes.all()]
    items += [{"kind": "appointment", "at": a.starts_at, "item": a} for a in case.appointments.all()]
    return sorted(items, key=lambda entry: entry["at"], reverse=True)


def next_appointment(case: Case) -> Appointment | None:
    """The next booked appointment that has not started yet (not one booked in error). Uses the prefetched rows."""
    now = timezone.now()
    booked = [
        a
        for a in case.appointments.all()
        if a.attendance == Appointment.Attendance.BOOKED and a.starts_at >= now and not a.is_entered_in_error
    ]
    return min(booked, key=lambda a: (a.starts_at, a.pk), default=None)


# --- providers and evidence ---------------------------------------------------------------------------------


def advice_providers(*, user, active_only: bool = False) -> QuerySet[AdviceProvider]:
    qs = AdviceProvider.objects.filter(advice_organisation_id__in=roles_for(user).advice_org_ids)
    return qs.filter(is_active=True) if active_only else qs


def evidence_requests_for_referrer(*, user) -> QuerySet[EvidenceRequest]:
    """Requests addressed to this referrer about referrals they may still see, open ones first. Patient
    names come with them: the referrer referred these patients."""
    return (
        EvidenceRequest.objects.addressed_to(user)
        .exclude(state=EvidenceRequest.State.CANCELLED)
        .select_related("case__referral__patient", "case__referral__advice_organisation", "requested_by")
        .annotate(
            open_rank=SqlCase(
                When(state=EvidenceRequest.State.REQUESTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", "due_date", "pk")
    )
