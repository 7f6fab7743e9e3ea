"""Reads for referrals. Each takes the acting user and returns only what that user may see."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from hjp.accounts.models import Partnership
from hjp.accounts.roles import roles_for
from hjp.core.dates import format_date
from hjp.core.nhs_number import normalise_nhs_number
from referrals.models import OPEN_STATUSES, ProblemCategory, Referral, ReferralStatus
from referrals.permissions import get_referral_for_user


def referral_list(*, user, status: str = "", text: str = "") -> QuerySet[Referral]:
    """The referrals a user may see, newest first, filtered by state and by text
    (reference, patient name or NHS number)."""
    qs = (
        Referral.objects.visible_to(user)
        .select_related("patient", "advice_organisation", "referrer", "referring_organisation")
        .prefetch_related("categories")
        .order_by("-submitted_at", "-created_at", "-pk")
    )
    if status:
        qs = qs.filter(status=status)
    text = (text or "").strip()
    if text:
        match = Q(reference__iexact=text)
        for word in text.split():
            match |= Q(patient__given_name__icontains=word) | Q(patient__family_name__icontains=word)
        digits = normalise_nhs_number(text)
        if digits.isdigit():
            match |= Q(patient__nhs_number__startswith=digits)
        qs = qs.filter(match)
    return qs


def referral_detail(*, user, pk) -> Referral:
    queryset = Referral.objects.select_related(
        "patient",
        "consent__recorded_by",
        "consent__withdrawn_by",
        "referrer",
        "referring_organisation",
        "referring_team",
        "partnership",
        "advice_organisation",
    ).prefetch_related("categories", "status_changes__actor", "consent__changes__recorded_by")
    return get_referral_for_user(user, pk, queryset=queryset)


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


def open_duplicates(
    *,
    advice_organisation_id: int,
    nhs_number: str = "",
    given_name: str = "",
    family_name: str = "",
    date_of_birth=None,
    exclude_pk: int | None = None,
) -> list[Referral]:
    """Open referrals of the same patient (same NHS number, or same name and date of birth) to the same
    advice service. The caller shows only their references and dates."""
    same_patient = Q(pk__in=[])
    nhs_number = normalise_nhs_number(nhs_number)
    if nhs_number:
        same_patient |= Q(patient__nhs_number=nhs_number)
    if given_name and family_name and date_of_birth:
        same_patient |= Q(
            patient__given_name__iexact=given_name.strip(),
            patient__family_name__iexact=family_name.strip(),
            patient__date_of_birth=date_of_birth,
        )
    qs = Referral.objects.filter(same_patient, advice_organisation_id=advice_organisation_id, status__in=OPEN_STATUSES)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    fields = ("pk", "reference", "submitted_at", "status", "referrer", "referring_organisation", "advice_organisation")
    return list(qs.only(*fields).order_by("-submitted_at")[:5])


def visible_referral_ids(*, user, referral_ids) -> set[int]:
    """Which of these referrals the user may open, in one query: the per-object answer, from the same rule."""
    return set(Referral.objects.visible_to(user).filter(pk__in=referral_ids).values_list("pk", flat=True))


def referral_status_counts(*, user) -> dict[str, int]:
    rows = Referral.objects.visible_to(user).values("status").annotate(n=Count("pk"))
    counts = {choice: 0 for choice in ReferralStatus.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def message_patient_labels(*, user, referral_ids) -> dict[int, str]:
    """For messages in the app's inbox: the patient of each referral the user may still see, by initials and
    date of birth ("M.K., born 14 Mar 1958"), in one query. A patient whose consent was withdrawn is
    redacted: nothing that identifies them."""
    rows = (
        Referral.objects.visible_to(user)
        .filter(pk__in=referral_ids)
        .select_related("patient")
        .only("pk", "patient__given_name", "patient__family_name", "patient__date_of_birth", "patient__redacted_at")
    )
    labels = {}
    for referral in rows:
        patient = referral.patient
        if patient.redacted_at:
            labels[referral.pk] = "details removed (consent withdrawn)"
            continue
        label = patient.initials
        if patient.date_of_birth:
            label += f", born {format_date(patient.date_of_birth)}"
        labels[referral.pk] = label
    return labels
