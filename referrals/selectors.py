"""Reads for referrals. Each takes the acting user and returns only what that user may see."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.counting import COUNT_CAP, Capped, capped_counts
from hjp.core.dates import format_date
from hjp.core.lookups import get_visible_or_404
from hjp.core.nhs_number import normalise_nhs_number
from hjp.core.planning import joins_as_written
from hjp.core.short_lists import ShortList, read_short_lists
from referrals.models import (
    OPEN_STATUSES,
    SORT_AT,
    ClinicBooking,
    ConsentChange,
    Handover,
    Patient,
    ProblemCategory,
    Referral,
    ReferralMessage,
    ReferralStatus,
    ReferralStatusChange,
    patient_name_fields,
)
from referrals.permissions import get_referral_for_user, thread_side

# How many of the latest messages the referral's and the case's pages show; the conversation's page has them all.
THREAD_PREVIEW = 5


def referral_list(*, user, status: str = "", text: str = "") -> QuerySet[Referral]:
    """The referrals a user may see, newest first (by when sent; a draft by when begun), filtered by state and
    by text (`referrals_matching`). An advisor's or supervisor's list is what was sent to their service
    (`received_by`, read in its index's order at any depth); referrals handed over to it by another service are
    listed in its triage, and open from there."""
    roles = roles_for(user)
    visible = (
        Referral.objects.received_by(user)
        if roles.advice_org_ids and not roles.referrer_org_ids
        else Referral.objects.visible_to(user)
    )
    qs = (
        visible.annotate(sort_at=SORT_AT)
        .select_related("patient", "advice_organisation", "referrer", "referring_organisation")
        .prefetch_related("categories")
        .order_by("-sort_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    if (text or "").strip():
        qs = qs.filter(pk__in=referrals_matching(text))
    return qs


# What a row of the referral lists shows (referrals/referral_list.html, the referrer's home), for `.only()`: see
# `referrals.models.patient_name_fields`.
_REFERRAL_ROW = (
    "reference",
    "urgency",
    "status",
    "case_status",
    "submitted_at",
    *patient_name_fields("patient"),
    "advice_organisation",
    "advice_organisation__name",
)


def referral_rows(*, user, status: str = "", text: str = "") -> QuerySet[Referral]:
    """`referral_list` as a page lists it: each row with its patient and advice service, and only what it shows."""
    return (
        referral_list(user=user, status=status, text=text)
        .select_related(None)
        .select_related("patient", "advice_organisation")
        .only(*_REFERRAL_ROW)
    )


def referrals_matching(text: str, *also: QuerySet) -> QuerySet:
    """The ids of the referrals a search text finds, for `pk__in=`: the referral with that reference (in any
    case), and those of patients with any word of the text in their given or family name, or an NHS number
    starting with its digits. A UNION of lookups an index answers each (the reference's unique index, the
    names' trigram indexes on PostgreSQL, the NHS number's pattern index), so a search never reads every
    referral; `also` adds other lookups of referral ids (a case's reference)."""
    text = text.strip()
    by_reference = Referral.objects.filter(reference=text.upper()).order_by().values("pk")
    by_patient = Referral.objects.filter(patient__in=patients_found_by(text).values("pk")).order_by().values("pk")
    return by_reference.union(by_patient, *also)


def patients_found_by(text: str) -> QuerySet[Patient]:
    """The patients with any word of the text in their given or family name (`icontains`: the trigram indexes),
    or an NHS number starting with its digits (the pattern index)."""
    patients = Q(pk__in=[])
    for word in text.split():
        patients |= Q(given_name__icontains=word) | Q(family_name__icontains=word)
    digits = normalise_nhs_number(text)
    if digits.isdigit():
        patients |= Q(nhs_number__startswith=digits)
    return Patient.objects.filter(patients).order_by()


HANDOVER_RELATED = ("from_organisation", "to_organisation", "made_by", "decided_by", "outcome_by")


def referral_detail(*, user, pk, read_handovers: bool = True) -> Referral:
    """The referral with what its pages show. `read_handovers=False` for a page that reads them itself with its
    other short lists (`referral_page_lists`): `handover_list` is then set there."""
    queryset = (
        Referral.objects.select_related(
            "patient",
            "consent__recorded_by",
            "consent__withdrawn_by",
            "referrer",
            "referring_organisation",
            "referring_team",
            "partnership",
            "advice_organisation",
            "case",  # the case opened from it (casework.Case.referral), which the page links advice workers to
        )
        .prefetch_related(
            "categories",
            # The people on the steps and on the consent's changes come with them, not in a query of their own.
            Prefetch("status_changes", queryset=ReferralStatusChange.objects.select_related("actor")),
            Prefetch("consent__changes", queryset=ConsentChange.objects.select_related("recorded_by")),
        )
        .annotate(has_handovers=Exists(Handover.objects.filter(referral=OuterRef("pk"))))
    )
    # One referral by its id, joined to its relations by theirs: planned with its joins as written (at a million
    # referrals 2 ms of planning instead of 8; hjp.core.planning).
    with joins_as_written(queryset.db):
        referral = get_referral_for_user(user, pk, queryset=queryset)
    # Most referrals are never handed over: only those that were read their handovers (one query more).
    if read_handovers:
        _set_handovers(
            referral,
            list(Handover.objects.filter(referral=referral).select_related(*HANDOVER_RELATED))
            if referral.has_handovers
            else [],
        )
    return referral


def _set_handovers(referral: Referral, handovers: list[Handover]) -> None:
    referral.handover_list = handovers
    for handover in handovers:
        handover.referral = referral


@dataclass(frozen=True)
class TimelineEntry:
    title: str
    who: str
    at: datetime
    lines: tuple[str, ...] = ()
    handover: Handover | None = None


def referral_timeline(referral: Referral, *, user) -> list[TimelineEntry]:
    """For a referral read by `referral_detail`: the referral's steps and what became of each handover of it, oldest first. The notes of a partner's
    outcome are for the referrer only where the patient agreed to outcomes being reported back (scope 3)."""
    entries = [
        TimelineEntry(
            title=step.get_to_status_display(),
            # No actor: hjp itself discarded a draft nobody sent (referrals.services.retention).
            who=step.actor.full_name if step.actor else "hjp (draft not sent in time)",
            at=step.at,
            lines=tuple(
                line
                for line in (
                    f"Reason: {step.get_decline_reason_display()}" if step.decline_reason else "",
                    step.reason,
                )
                if line
            ),
        )
        for step in referral.status_changes.all()
    ]
    advice_side = bool(roles_for(user).advice_org_ids)
    consent = getattr(referral, "consent", None)
    outcomes_shown = advice_side or (consent is not None and consent.allows_outcome_feedback)
    for handover in referral.handover_list:
        shared = (
            f"The patient's consent to share with {handover.provider_name}: "
            f"{handover.get_consent_given_by_display().lower()}, {handover.get_consent_method_display().lower()}, "
            f"{format_date(timezone.localdate(handover.consent_said_at))}"
        )
        how = "in hjp" if handover.is_inside else "outside hjp"
        entries.append(
            TimelineEntry(
                title=f"Handed over to {handover.provider_name} ({how})",
                who=handover.made_by.full_name,
                at=handover.made_at,
                lines=(shared,),
                handover=handover,
            )
        )
        if handover.decided_at and handover.decided_at != handover.outcome_at:
            verb = "Declined" if handover.state == Handover.State.DECLINED else "Accepted"
            entries.append(
                TimelineEntry(
                    title=f"{verb} by {handover.provider_name}",
                    who=handover.decided_by.full_name,
                    at=handover.decided_at,
                    lines=(handover.decision_note,) if handover.decision_note else (),
                )
            )
        if handover.state == Handover.State.CLOSED:
            lines = [f"Outcome: {handover.get_outcome_display()}"] if outcomes_shown else []
            if outcomes_shown and handover.outcome_note:
                lines.append(handover.outcome_note)
            entries.append(
                TimelineEntry(
                    title=f"Closed by {handover.provider_name}",
                    who=handover.outcome_by.full_name,
                    at=handover.outcome_at,
                    lines=tuple(lines),
                )
            )
        if handover.state == Handover.State.STOPPED:
            entries.append(
                TimelineEntry(
                    title=f"Handover to {handover.provider_name} stopped: consent withdrawn",
                    who=consent.withdrawn_by.full_name,
                    at=consent.withdrawn_at,
                )
            )
    return sorted(entries, key=lambda entry: entry.at)


def partnerships_for_referrer(user) -> QuerySet[Partnership]:
    """Partnerships the user's health organisations belong to and that are running today, for the referral form."""
    today = timezone.localdate()
    return (
        Partnership.objects.filter(health_organisations__in=roles_for(user).referrer_org_ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("advice_organisation")
        .distinct()
        .order_by("name")
    )


def problem_categories() -> QuerySet[ProblemCategory]:
    return ProblemCategory.objects.all()


class _SamePatient(Expression):
    """The rule for "the same patient" as one condition on a Referral query: the same NHS number as any of
    `nhs_numbers`, or the same name (case-insensitively) and date of birth as any of `names` ((given, family,
    date of birth) triples). Written as SQL in one piece, ORs of plain comparisons that the planner reads as it
    would the same Q objects, rather than as a Q with a lookup for each term: on the triage page's 25 patients,
    building those lookups cost more than the query. `_patient_keys` is the same rule for patients already
    loaded."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, nhs_numbers=(), names=()):
        super().__init__()
        self.nhs_numbers = tuple(sorted(set(nhs_numbers)))
        self.names = tuple(sorted(set(names)))
        self.columns = [F(f"patient__{name}") for name in ("nhs_number", "given_name", "family_name", "date_of_birth")]

    def get_source_expressions(self):
        return self.columns

    def set_source_expressions(self, exprs):
        self.columns = list(exprs)

    def as_sql(self, compiler, connection):
        (nhs, _), (given, _), (family, _), (born, _) = (compiler.compile(column) for column in self.columns)
        terms, params = [], []
        if self.nhs_numbers:
            terms.append(f"{nhs} IN ({', '.join(['%s'] * len(self.nhs_numbers))})")
            params.extend(self.nhs_numbers)
        term = f"(UPPER({given}) = UPPER(%s) AND UPPER({family}) = UPPER(%s) AND {born} = %s)"
        for given_name, family_name, date_of_birth in self.names:
            terms.append(term)
            params.extend((given_name, family_name, connection.ops.adapt_datefield_value(date_of_birth)))
        return (f"({' OR '.join(terms)})", params) if terms else ("1 = 0", [])


def _same_patient(*identities) -> _SamePatient:
    """Referrals of the same patient as any of `identities`: (NHS number, given name, family name, date of
    birth), each possibly empty."""
    nhs_numbers, names = [], []
    for nhs_number, given_name, family_name, date_of_birth in identities:
        nhs_number = normalise_nhs_number(nhs_number or "")
        if nhs_number:
            nhs_numbers.append(nhs_number)
        if given_name and family_name and date_of_birth:
            names.append((given_name.strip(), family_name.strip(), date_of_birth))
    return _SamePatient(nhs_numbers, names)


def _patient_keys(patient: Patient) -> list[tuple]:
    """The keys under which `_SamePatient`'s rule finds this patient: its NHS number, and its name without case
    with its date of birth, where it has them. Two patients are the same by the rule exactly when they share a
    key."""
    keys = []
    if patient.nhs_number:
        keys.append(("nhs", patient.nhs_number))
    given, family = patient.given_name.strip().casefold(), patient.family_name.strip().casefold()
    if given and family and patient.date_of_birth:
        keys.append(("name", given, family, patient.date_of_birth))
    return keys


def open_duplicates(
    *,
    user,
    advice_organisation_id: int,
    nhs_number: str = "",
    given_name: str = "",
    family_name: str = "",
    date_of_birth=None,
    exclude_pk: int | None = None,
) -> list[Referral]:
    """Open referrals of the same patient (same NHS number, or same name and date of birth) to the same
    advice service, among those the user may see. A referrer is never told that someone they cannot see
    referred the patient (that would say who is a patient where): the advice service sees every duplicate
    at triage (`possible_duplicates`). The caller shows only their references and dates."""
    same_patient = _same_patient((nhs_number, given_name, family_name, date_of_birth))
    qs = Referral.objects.visible_to(user).filter(
        same_patient, advice_organisation_id=advice_organisation_id, status__in=OPEN_STATUSES
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    fields = ("pk", "reference", "submitted_at", "status", "referrer", "referring_organisation", "advice_organisation")
    return list(qs.only(*fields).order_by("-submitted_at")[:5])


# What a possible duplicate shows (referrals/_possible_duplicates.html) and is matched by (`_patient_keys`), read
# with `.only()` as `_REFERRAL_ROW`.
_DUPLICATE_ROW = (
    "reference",
    "submitted_at",
    "advice_organisation",
    "patient",
    "patient__nhs_number",
    "patient__given_name",
    "patient__family_name",
    "patient__date_of_birth",
    "referring_organisation",
    "referring_organisation__name",
)


def possible_duplicates(*, user, referrals) -> dict[int, list[Referral]]:
    """For the advice side (triage, the referral page): for each of these referrals (their patients loaded),
    the other open referrals of the same patient to the same advice service that the user receives, with
    the organisation that made them, in one query. Referrals with none are left out."""
    referrals = [r for r in referrals if r.status != ReferralStatus.DRAFT]
    if not referrals:
        return {}
    same_patient = _same_patient(
        *((p.nhs_number, p.given_name, p.family_name, p.date_of_birth) for p in (r.patient for r in referrals))
    )
    candidates = list(
        Referral.objects.received_by(user)
        .filter(same_patient, status__in=OPEN_STATUSES)
        .select_related("patient", "referring_organisation")
        .only(*_DUPLICATE_ROW)
        .order_by("submitted_at", "pk")
    )
    place = {other.pk: n for n, other in enumerate(candidates)}  # the query's order: oldest sent first
    by_key: dict[tuple, list[Referral]] = {}
    for other in candidates:
        for key in _patient_keys(other.patient):
            by_key.setdefault((other.advice_organisation_id, *key), []).append(other)
    found = {}
    for referral in referrals:
        seen = {referral.pk}
        matches = []
        for key in _patient_keys(referral.patient):
            for other in by_key.get((referral.advice_organisation_id, *key), ()):
                if other.pk not in seen:
                    seen.add(other.pk)
                    matches.append(other)
        if matches:
            found[referral.pk] = sorted(matches, key=lambda other: place[other.pk])
    return found


def referral_status_counts(*, user) -> dict[str, Capped]:
    """The referrer's home figures, in one query, each counted up to COUNT_CAP (`capped_counts`): waiting for the
    advice service, being worked (accepted or in progress), closed, and drafts not sent. A practice's closed
    history grows without end; past the cap ("1,000+") its size changes nothing a referrer does, and each count
    reads at most cap + 1 entries of `referral_org_status_ref_idx` (organisation, status, referrer)."""
    visible = Referral.objects.visible_to(user)
    return capped_counts(
        COUNT_CAP,
        submitted=visible.filter(status=ReferralStatus.SUBMITTED),
        being_worked=visible.filter(status__in=[ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS]),
        closed=visible.filter(status=ReferralStatus.CLOSED),
        draft=visible.filter(status=ReferralStatus.DRAFT),
    )


def message_patient_labels(*, user, referral_ids) -> dict[int, str]:
    """For messages in the app's inbox: the patient of each referral the user may still see, by initials and
    date of birth ("M.K., born 14 Mar 1958"), in one query. A patient whose details were removed (consent
    withdrawn, or the retention period over) is named by that notice: nothing that identifies them."""
    rows = (
        Referral.objects.visible_to(user)
        .filter(pk__in=referral_ids)
        .select_related("patient")
        .only(
            "pk",
            "patient__given_name",
            "patient__family_name",
            "patient__date_of_birth",
            "patient__redacted_at",
            "patient__redaction_reason",
        )
    )
    labels = {}
    for referral in rows:
        patient = referral.patient
        if patient.redacted_at:
            labels[referral.pk] = patient.removal_notice
            continue
        label = patient.initials
        if patient.date_of_birth:
            label += f", born {format_date(patient.date_of_birth)}"
        labels[referral.pk] = label
    return labels


def thread_messages(*, user, referral: Referral) -> QuerySet[ReferralMessage]:
    """The referral's conversation, newest first (for a keyset page), with its authors; nothing for a user who
    has no part in it (`thread_side`: not for drafts, managers, funders or any other organisation)."""
    if thread_side(user, referral) is None:
        return ReferralMessage.objects.none()
    return ReferralMessage.objects.filter(referral=referral).select_related("author").order_by("-created_at", "-pk")


def referral_page_lists(*, user, referral: Referral) -> dict[str, list]:
    """The referral page's short lists, in one query: its active clinic booking ("clinic_bookings", with the
    session and its advisor); for a user who takes part in the conversation, its latest messages ("thread",
    newest first, one more than THREAD_PREVIEW to tell whether there are earlier ones); and its handovers, set
    as `referral.handover_list` (for a referral read with `referral_detail(read_handovers=False)`)."""
    lists = {
        "clinic_bookings": ShortList(
            ClinicBooking.objects.active().filter(referral_id=referral.pk), ("session__advisor", "session__partnership")
        )
    }
    if thread_side(user, referral) is not None:
        lists["thread"] = ShortList(
            ReferralMessage.objects.filter(referral=referral).order_by("-created_at", "-pk"),
            ("author",),
            limit=THREAD_PREVIEW + 1,
        )
    if referral.has_handovers:
        lists["handovers"] = ShortList(Handover.objects.filter(referral=referral), HANDOVER_RELATED)
    found = read_short_lists(**lists)
    _set_handovers(referral, found.pop("handovers", []))
    return found


def thread_preview_of(rows: list[ReferralMessage]) -> tuple[list[ReferralMessage], bool]:
    """The preview (oldest first) and whether there are earlier messages, from the latest THREAD_PREVIEW + 1."""
    return rows[:THREAD_PREVIEW][::-1], len(rows) > THREAD_PREVIEW


def thread_preview(*, user, referral: Referral) -> tuple[list[ReferralMessage], bool]:
    """The latest THREAD_PREVIEW messages, oldest first, and whether there are earlier ones: one query (none for
    a user with no part in the conversation)."""
    if thread_side(user, referral) is None:
        return [], False
    return thread_preview_of(list(thread_messages(user=user, referral=referral)[: THREAD_PREVIEW + 1]))


def get_thread_message_for_user(*, user, referral: Referral, pk) -> ReferralMessage:
    """A message of the referral's conversation the user takes part in, or 404 (missing and forbidden alike)."""
    return get_visible_or_404(thread_messages(user=user, referral=referral), pk, "No such message.")
