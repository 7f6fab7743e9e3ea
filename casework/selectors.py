"""Reads for casework. Each takes the acting user and returns only what that user may see."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
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
    NEXT_DEADLINE_KEY,
    OPEN_CASE_STATES,
    AdviceProvider,
    Appointment,
    Case,
    CaseIssue,
    CaseNote,
    Deadline,
    EvidenceRequest,
    OnwardReferral,
)
from casework.permissions import case_workers, get_case_for_user
from hjp.accounts.models import User
from hjp.accounts.roles import roles_for
from hjp.core import appeal_clock
from hjp.core.counting import COUNT_CAP, Capped, CappedRows, capped_count, capped_counts
from hjp.core.dates import start_of_today
from hjp.core.pagination import decode_position, encode_position, first_of_streams, keyset_filter
from hjp.core.planning import in_index_order, joins_as_written
from hjp.core.short_lists import ShortList, read_short_lists
from referrals.clinics.models import ClinicBooking
from referrals.clinics.selectors import advisor_bookings
from referrals.models import (
    ConsentChange,
    Handover,
    KnownDeadlineKind,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
    Urgency,
    patient_name_fields,
)
from referrals.selectors import referrals_matching


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


# What a row of the triage queue shows (casework/triage.html, casework/_patient_needs.html) and what the possible
# duplicates of its patient are found by (referrals.selectors.possible_duplicates), for `.only()`: see
# `referrals.models.patient_name_fields`.
_TRIAGE_ROW = (
    "reference",
    "status",
    "urgency",
    "description",
    "submitted_at",
    "known_deadline",
    "known_deadline_kind",
    "advice_organisation",
    *patient_name_fields("patient"),
    *(
        f"patient__{field}"
        for field in (
            "nhs_number",
            "date_of_birth",
            "phone",
            "preferred_contact_method",
            "contact_times",
            "may_leave_message",
            "interpreter_needed",
            "language",
            "access_needs",
        )
    ),
    "consent",
    "consent__medical_evidence",
    "referrer",
    "referrer__full_name",
    "referring_organisation",
    "referring_organisation__name",
    "referring_team",
    "referring_team__name",
)


def triage_queue(*, user, today: date | None = None) -> QuerySet[Referral]:
    """Submitted referrals to the user's advice organisations: urgent ones and those whose known deadline has
    passed first, then oldest first. Each carries `known_deadline_due` and `known_deadline_overdue`. Read a page
    of it through `triage_streams()` (keyset_page's `streams`, or `first_of_streams`): the rank is worked out at
    today's date, so no index gives the queue in its order, but one gives each stream's: pass the streams the same
    `today` (the default, read once per call, could change between the two at midnight)."""
    overdue = known_deadline_overdue(today or timezone.localdate())
    queue = Referral.objects.received_by(user).filter(status=ReferralStatus.SUBMITTED)
    return (
        queue.select_related("patient", "referrer", "referring_organisation", "referring_team", "consent")
        .only(*_TRIAGE_ROW)
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


def triage_streams(today: date | None = None) -> tuple[Q, ...]:
    """The triage queue in three streams, each of one rank and each given in (submitted_at, pk) order by an
    index on Referral (referral_waiting_*_idx): the urgent; the others whose known deadline has passed (so they
    have one); and the rest. Together they are the whole queue, so its first n rows are among the first n of
    each (hjp.core.pagination.first_of_streams)."""
    overdue = known_deadline_overdue(today or timezone.localdate())
    urgent = Q(urgency=Urgency.URGENT)
    return (urgent, ~urgent & Q(known_deadline__isnull=False) & overdue, ~urgent & ~overdue)


# The triage counts are shown up to this number, then as "1,000+" (hjp.core.counting).
TRIAGE_COUNT_CAP = COUNT_CAP


def triage_counts(*, user) -> dict[str, Capped]:
    """How many referrals wait, are urgent, have waited over a week and need an interpreter, each counted up to
    TRIAGE_COUNT_CAP, in one query."""
    week_ago = timezone.now() - timedelta(days=7)
    waiting = Referral.objects.received_by(user).filter(status=ReferralStatus.SUBMITTED)
    return capped_counts(
        TRIAGE_COUNT_CAP,
        waiting=waiting,
        urgent=waiting.filter(urgency=Urgency.URGENT),
        over_a_week=waiting.filter(submitted_at__lt=week_ago),
        interpreter=waiting.filter(patient__interpreter_needed=True),
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


# Each sort's keys, unique and never null (hjp.core.pagination pages through them); "next_deadline" is served
# by the indexes on Case.NEXT_DEADLINE_KEY, "name" by the patient's name index (a case has one patient, so the
# patient's id is as unique as the case's), "advisor" by the advisors' name index (accounts' user_name_idx: the
# advisors in name order, each one's cases through the advisor index, sorted one advisor at a time).
CASE_SORTS = {
    "next_deadline": ("deadline_key", "-opened_at", "-pk"),
    "opened": ("opened_at", "-pk"),
    "-opened": ("-opened_at", "-pk"),
    "name": ("referral__patient__family_name", "referral__patient__given_name", "referral__patient_id"),
    "advisor": ("advisor__full_name", "advisor_id", "-opened_at", "-pk"),
}


def _service_cases(user, org_ids) -> QuerySet[Case]:
    """The cases the user may see (`Case.objects.visible_to`) of these advice organisations."""
    return Case.objects.visible_to(user).filter(advice_organisation_id__in=org_ids)


def _scoped_cases(user, scope: str) -> QuerySet[Case]:
    roles = roles_for(user)
    if scope == "organisation" and roles.supervisor_org_ids:
        return _service_cases(user, roles.supervisor_org_ids)
    return Case.objects.visible_to(user).filter(advisor=user)


# The caseload's row (casework/caseload.html), with what its sorts read.
_CASELOAD_ROW = (
    "reference",
    "state",
    "next_deadline",
    "opened_at",
    "advisor",
    "advisor__full_name",
    "referral",
    "referral__reference",
    "referral__referring_organisation",
    "referral__referring_organisation__name",
    *patient_name_fields("referral__patient"),
)


def case_list(*, user, filters: CaseFilters) -> QuerySet[Case]:
    """The caseload: the user's own cases, or (for supervisors) the organisation's, filtered, searched and
    sorted. Each row carries its next open deadline (`Case.next_deadline`) and count of outstanding evidence
    requests."""
    today = timezone.localdate()
    outstanding = EvidenceRequest.objects.filter(case=OuterRef("pk"), state=EvidenceRequest.State.REQUESTED)
    qs = (
        _scoped_cases(user, filters.scope)
        .select_related("referral__patient", "advisor", "referral__referring_organisation")
        .only(*_CASELOAD_ROW)
        .annotate(
            deadline_key=NEXT_DEADLINE_KEY,
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
        qs = qs.filter(next_deadline__lte=_week_end(today))
    if filters.evidence_outstanding:
        qs = qs.filter(Exists(outstanding))
    text = (filters.q or "").strip()
    if text:
        by_case_reference = Case.objects.filter(reference=text.upper()).order_by().values("referral_id")
        qs = qs.filter(referral__in=referrals_matching(text, by_case_reference))
    return qs.order_by(*CASE_SORTS.get(filters.sort, CASE_SORTS["next_deadline"]))


def case_state_counts(*, user, scope: str) -> dict[str, Capped]:
    """How many of the scoped cases are open, in each open state, each counted up to COUNT_CAP (shown as
    "1,000+" beyond), in one query. Closed cases are not counted: their number only grows."""
    scoped = _scoped_cases(user, scope)
    counts = capped_counts(COUNT_CAP, **{state: scoped.filter(state=state) for state in OPEN_CASE_STATES})
    counts["open"] = sum(counts.values(), Capped(0))
    return counts


def open_cases_per_advisor(*, user) -> list[User]:
    """For supervisors: each advisor of their organisations with their open cases counted up to COUNT_CAP
    (`open_cases`, a Capped), in one query."""
    roles = roles_for(user)
    if not roles.supervisor_org_ids:
        return []
    workers = User.objects.none()
    for org_id in roles.supervisor_org_ids:
        workers |= case_workers(org_id)
    open_cases = _service_cases(user, roles.supervisor_org_ids).filter(
        advisor=OuterRef("pk"), state__in=OPEN_CASE_STATES
    )
    advisors = list(workers.annotate(open_cases_read=CappedRows(open_cases, COUNT_CAP)).order_by("full_name"))
    for advisor in advisors:
        advisor.open_cases = Capped.of(advisor.open_cases_read, COUNT_CAP)
    return advisors


def advisor_choices(*, user) -> QuerySet[User]:
    """Everyone who works cases in the user's advice organisations (for filters and allocation)."""
    workers = User.objects.none()
    for org_id in roles_for(user).advice_org_ids:
        workers |= case_workers(org_id)
    return workers.order_by("full_name", "email")


# --- advisor home -------------------------------------------------------------------------------------------


# The most rows each section of the advisor's day shows; "See all" opens the whole list a page at a time.
HOME_SECTION_LENGTH = 20
# The advisor's clinic bookings on their day: today and the six days after.
CLINIC_DAYS_AHEAD = 7


@dataclass
class AdvisorHome:
    appointments_today: list
    appointments_week: list
    more_appointments: bool
    deadlines: list
    more_deadlines: bool
    evidence_answers: list
    more_evidence_answers: bool
    new_referrals: list
    waiting_count: Capped
    clinic_bookings_today: list
    clinic_bookings_week: list
    more_clinic_bookings: bool


def _my_open_cases(user) -> QuerySet[Case]:
    return Case.objects.visible_to(user).filter(advisor=user, state__in=OPEN_CASE_STATES)


def home_appointments(*, user) -> QuerySet[Appointment]:
    """The appointments still booked on the advisor's open cases from the start of today to the end of the
    week, soonest first. Read from the advisor's own diary (the index appointment_advisor_booked_idx), not from
    every appointment of the week: from the start of today, an appointment still booked is held by its case's
    advisor (`casework.services.cases.case_reallocate` hands them over with the case)."""
    today = timezone.localdate()
    day_start = start_of_today()
    return (
        Appointment.objects.filter(
            advisor=user,
            case__in=_my_open_cases(user),
            attendance=Appointment.Attendance.BOOKED,
            entered_in_error_at__isnull=True,
            starts_at__gte=day_start,
            starts_at__lt=day_start + timedelta(days=(_week_end(today) - today).days + 1),
        )
        .select_related("case__referral__patient")
        .order_by("starts_at", "pk")
    )


def _deadline_horizon() -> date:
    return timezone.localdate() + timedelta(days=7)


def home_deadlines(*, user) -> QuerySet[Deadline]:
    """The open deadlines of the advisor's open cases that are overdue or due in the next seven days, soonest
    first (cases in id order within a day; `first_home_deadlines` reads the first few without this whole list)."""
    return _deadlines_due_soon(_my_open_cases(user))


def _deadlines_due_soon(cases: QuerySet[Case]) -> QuerySet[Deadline]:
    """`home_deadlines` of these cases, which must already be some of the advisor's open cases: it narrows to no
    one's cases itself."""
    return (
        Deadline.objects.filter(case__in=cases, done_at__isnull=True, due_date__lte=_deadline_horizon())
        .select_related("case__referral__patient")
        .order_by("due_date", "case_id", "pk")
    )


def first_home_deadlines(*, user, n: int) -> list[Deadline]:
    """The first `n` rows of `home_deadlines`, read from the advisor's first `n` open cases in (next_deadline,
    id) order (the index case_advisor_open_due_idx) instead of from every open deadline of the service.

    Why these are the same rows: an open case's `next_deadline` is the due date of its earliest open deadline
    (casework.services.common.refresh_next_deadline, in the transaction of every change to either), so a case
    has a row in the list exactly when its next_deadline is on or before the horizon, and its first row sorts at
    (next_deadline, case id). Let C be the n-th of those cases in (next_deadline, id) order. Each of the first n
    cases has a row at or before (C.next_deadline, C.id); a row of any later case c' sorts at or after
    (c'.next_deadline, c'.id), which is after (C.next_deadline, C.id). So at least n rows of the first n cases
    come before every row of the later cases, and the list's first n rows are all rows of the first n cases.
    (With fewer than n such cases, they are all the cases with rows.) One query, naming the advisor's open cases
    once: those first cases are among them (at a million referrals, half the planning of naming them twice)."""
    first_cases = (
        _my_open_cases(user)
        .filter(next_deadline__lte=_deadline_horizon())
        .order_by("next_deadline", "pk")
        .values("pk")[:n]
    )
    return list(_deadlines_due_soon(first_cases).only(*_HOME_DEADLINE)[:n])


def home_evidence_answers(*, user) -> QuerySet[EvidenceRequest]:
    """Evidence requests of the advisor's open cases answered or declined in the last two weeks, newest first."""
    return (
        EvidenceRequest.objects.filter(
            case__in=_my_open_cases(user),
            state__in=[EvidenceRequest.State.ANSWERED, EvidenceRequest.State.DECLINED],
            answered_at__gte=timezone.now() - timedelta(days=14),
        )
        .select_related("case__referral__patient", "requested_from")
        .order_by("-answered_at", "-pk")
    )


def _first(queryset: QuerySet, n: int = HOME_SECTION_LENGTH) -> tuple[list, bool]:
    """The first `n` rows, and whether there are more, in one query."""
    rows = list(queryset[: n + 1])
    return rows[:n], len(rows) > n


# What each section of the advisor's day shows of its rows (casework/_today_*.html), as `_TRIAGE_ROW`.
_HOME_APPOINTMENT = (
    "starts_at",
    "kind",
    "place",
    "case",
    "case__referral",
    *patient_name_fields("case__referral__patient"),
)
_HOME_DEADLINE = ("due_date", "title", "case", "case__referral", *patient_name_fields("case__referral__patient"))
_HOME_EVIDENCE = (
    "state",
    "answered_at",
    "case",
    "case__referral",
    *patient_name_fields("case__referral__patient"),
    "requested_from",
    "requested_from__full_name",
)
_HOME_CLINIC = (
    "slot",
    "interpreter",
    "interpreter_language",
    "session",
    "session__starts_at",
    "session__slot_minutes",
    "session__place",
    "session__mode",
    "referral",
    "referral__reference",
    *patient_name_fields("referral__patient"),
)
_HOME_NEW_REFERRAL = ("urgency", "reference", "submitted_at", *patient_name_fields("patient"))


def advisor_home(*, user) -> AdvisorHome:
    """What an advisor needs at the start of the day, across their own open cases: at most HOME_SECTION_LENGTH
    rows a section, each saying whether there are more."""
    day_start = start_of_today()
    tomorrow = day_start + timedelta(days=1)
    appointments = home_appointments(user=user).only(*_HOME_APPOINTMENT)
    with in_index_order(appointments.db):  # the advisor's diary, walked in order (hjp.core.planning)
        appointments, more_appointments = _first(appointments)
    deadlines = first_home_deadlines(user=user, n=HOME_SECTION_LENGTH + 1)
    deadlines, more_deadlines = deadlines[:HOME_SECTION_LENGTH], len(deadlines) > HOME_SECTION_LENGTH
    evidence, more_evidence = _first(home_evidence_answers(user=user).only(*_HOME_EVIDENCE))
    clinic, more_clinic = _first(
        advisor_bookings(user=user, start=day_start, end=day_start + timedelta(days=CLINIC_DAYS_AHEAD)).only(
            *_HOME_CLINIC
        )
    )
    today = timezone.localdate()
    queue = triage_queue(user=user, today=today)
    return AdvisorHome(
        appointments_today=[a for a in appointments if a.starts_at < tomorrow],
        appointments_week=[a for a in appointments if a.starts_at >= tomorrow],
        more_appointments=more_appointments,
        deadlines=deadlines,
        more_deadlines=more_deadlines,
        evidence_answers=evidence,
        more_evidence_answers=more_evidence,
        # The home page shows no categories: not the queue's prefetch of them; nor the people it selects.
        new_referrals=list(
            first_of_streams(
                queue.prefetch_related(None).select_related(None).select_related("patient").only(*_HOME_NEW_REFERRAL),
                triage_streams(today),
                5,
            )[:5]
        ),
        waiting_count=capped_count(queue, TRIAGE_COUNT_CAP),
        # The patients booked into the advisor's own clinic sessions (when referred, before any case exists).
        clinic_bookings_today=[b for b in clinic if b.session.starts_at < tomorrow],
        clinic_bookings_week=[b for b in clinic if b.session.starts_at >= tomorrow],
        more_clinic_bookings=more_clinic,
    )


# --- the case record ----------------------------------------------------------------------------------------


def case_detail(*, user, pk) -> Case:
    """The case with its referral, patient, consent and the people named on them, in one query: one case by its
    id, followed by primary keys, so planned with its joins as written (hjp.core.planning)."""
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
    ).prefetch_related("referral__categories")
    with joins_as_written(queryset.db):
        return get_case_for_user(user, pk, queryset=queryset)


@dataclass(frozen=True)
class CaseRecord:
    """The short lists of a case's page, read together (hjp.core.short_lists): its issues, deadlines, evidence
    requests and onward referrals, its referral's steps, the later changes of its consent and its clinic booking, each with the
    people and categories it names, and its next appointment."""

    issues: list[CaseIssue]
    deadlines: list[Deadline]
    evidence_requests: list[EvidenceRequest]
    onward_referrals: list[OnwardReferral]
    status_changes: list[ReferralStatusChange]
    consent_changes: list[ConsentChange]
    clinic_bookings: list[ClinicBooking]  # the referral's active advice clinic booking (at most one)
    next_appointment: Appointment | None  # as `next_appointment` gives it


def case_record(case: Case) -> CaseRecord:
    """One query, however many lists hold rows (each list is short: a case's own issues, deadlines, ...), each
    list found by the case's key and joined to its relations by theirs, so planned with its joins as written
    (hjp.core.planning: at a million referrals 3 ms of planning instead of 5.5)."""
    referral = case.referral
    with joins_as_written(case._state.db):
        lists = read_short_lists(
            issues=ShortList(CaseIssue.objects.filter(case=case), ("category", "sub_category")),
            deadlines=ShortList(
                Deadline.objects.filter(case=case), ("issue__category", "issue__sub_category", "done_by")
            ),
            evidence_requests=ShortList(EvidenceRequest.objects.filter(case=case), ("requested_from", "requested_by")),
            onward_referrals=ShortList(
                OnwardReferral.objects.filter(case=case),
                ("provider", "made_by", "issue__category", "issue__sub_category", "handover", "handover__partner_send"),
            ),
            status_changes=ShortList(ReferralStatusChange.objects.filter(referral=referral), ("actor",)),
            consent_changes=ShortList(ConsentChange.objects.filter(consent=referral.consent), ("recorded_by",)),
            clinic_bookings=ShortList(ClinicBooking.objects.active().filter(referral=referral), ("session__advisor",)),
            next_appointment=ShortList(
                Appointment.objects.filter(pk=Subquery(_upcoming_appointments(case).values("pk")[:1]))
            ),
        )
    return CaseRecord(next_appointment=next(iter(lists.pop("next_appointment")), None), **lists)


# The most entries of a case's timeline one page shows; "Show earlier" pages back.
TIMELINE_LENGTH = 20
_TIMELINE_LABEL = ["case timeline"]
_NOTE, _APPOINTMENT = 1, 0  # at the same moment, a note comes before an appointment (newest first)


@dataclass
class TimelinePage:
    entries: list[dict]
    earlier: str  # the cursor of the page before (older entries), "" when there are none
    is_latest: bool
    invalid_cursor: bool = False


def case_timeline(case: Case, *, before: str = "", length: int = TIMELINE_LENGTH) -> TimelinePage:
    """Notes and appointments in one list, newest first, `length` at a time: the latest, or those before the
    cursor `before` (from an earlier page's `earlier`). Two queries, however long the case's history."""
    notes = CaseNote.objects.filter(case=case).select_related("author", "entered_in_error_by")
    appointments = Appointment.objects.filter(case=case).select_related("advisor", "entered_in_error_by")
    position = decode_position(before, _TIMELINE_LABEL) if before else None
    if position is not None:
        (at, rank, pk), _ = position
        if rank == _NOTE:
            notes = notes.filter(keyset_filter(("-occurred_at", "-pk"), (at, pk)))
            appointments = appointments.filter(starts_at__lte=at)
        else:
            notes = notes.filter(occurred_at__lt=at)
            appointments = appointments.filter(keyset_filter(("-starts_at", "-pk"), (at, pk)))
    items = [
        {"kind": "note", "at": n.occurred_at, "rank": _NOTE, "item": n}
        for n in notes.order_by("-occurred_at", "-pk")[: length + 1]
    ]
    items += [
        {"kind": "appointment", "at": a.starts_at, "rank": _APPOINTMENT, "item": a}
        for a in appointments.order_by("-starts_at", "-pk")[: length + 1]
    ]
    items.sort(key=lambda entry: (entry["at"], entry["rank"], entry["item"].pk), reverse=True)
    shown = items[:length]
    earlier = ""
    if len(items) > length:
        last = shown[-1]
        earlier = encode_position(_TIMELINE_LABEL, [last["at"], last["rank"], last["item"].pk])
    return TimelinePage(
        entries=shown, earlier=earlier, is_latest=position is None, invalid_cursor=bool(before) and position is None
    )


def _upcoming_appointments(case: Case) -> QuerySet[Appointment]:
    """The case's booked appointments that have not started yet (not those booked in error), soonest first."""
    return Appointment.objects.filter(
        case=case,
        attendance=Appointment.Attendance.BOOKED,
        starts_at__gte=timezone.now(),
        entered_in_error_at__isnull=True,
    ).order_by("starts_at", "pk")


def next_appointment(case: Case) -> Appointment | None:
    """The next booked appointment that has not started yet (not one booked in error)."""
    return _upcoming_appointments(case).first()


# --- providers and evidence ---------------------------------------------------------------------------------


HANDOVERS_SHOWN = 20


# What a handover waiting at the top of triage shows (casework/triage.html), as `_TRIAGE_ROW`.
_HANDOVER_ROW = (
    "made_at",
    "referral",
    "referral__reference",
    *patient_name_fields("referral__patient"),
    "from_organisation",
    "from_organisation__name",
)


def handovers_waiting(*, user, limit: int = HANDOVERS_SHOWN) -> list[Handover]:
    """Referrals other advice services handed over to the user's, waiting for an answer, oldest first: shown at
    the top of triage (one query)."""
    return list(
        Handover.objects.filter(to_organisation_id__in=roles_for(user).advice_org_ids, state=Handover.State.SENT)
        .visible_to(user)
        .select_related("referral__patient", "from_organisation")
        .only(*_HANDOVER_ROW)
        .order_by("made_at", "pk")[:limit]
    )


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
