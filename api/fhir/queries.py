"""What a client may read through FHIR: the referrals its service user may see (`Referral.objects.visible_to`,
the web pages' one rule), loaded with what the mapping reads. A resource the user may not see is missing: 404,
the same as one that does not exist."""

import re
from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from api.fhir import codes
from api.fhir.outcome import FhirError
from hjp.accounts.models import Organisation, Partnership
from hjp.core.pagination import decode_position, encode_position, keyset_filter
from referrals.models import FHIR_TASK_STATUS, Referral, ReferralStatusChange
from referrals.permissions import get_referral_for_user

TASK_ORDER = ("updated_at", "pk")
# A resource id as hjp writes them: ASCII digits that fit a bigint. str.isdigit() also accepts "²" or "١",
# which int() then refuses (a 500), and a longer number overflows the column (another 500).
RESOURCE_ID = re.compile(r"[0-9]{1,18}")


def resource_id(value) -> int | None:
    """The integer id in `value`, or None when it is not one hjp could have written."""
    value = str(value)
    return int(value) if RESOURCE_ID.fullmatch(value) else None


def resource_id_or_404(value) -> int:
    pk = resource_id(value)
    if pk is None:
        raise Http404("No such resource.")
    return pk


DEFAULT_COUNT, MAX_COUNT = 20, 100
PREFIXES = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte", "eq": None}


def _task_rows(user) -> QuerySet[Referral]:
    return (
        Referral.objects.visible_to(user)
        .select_related("referring_organisation", "advice_organisation")
        .prefetch_related(Prefetch("status_changes", queryset=ReferralStatusChange.objects.order_by("at", "id")))
    )


def referral_for(user, pk, *, as_request: bool = False) -> Referral:
    """The referral (a Task, or with `as_request` a ServiceRequest: they share its id), loaded for its mapping."""
    pk = resource_id_or_404(pk)
    rows = _task_rows(user).select_related("consent", "case")
    if as_request:
        rows = rows.select_related("referrer", "referring_practitioner").prefetch_related("categories")
    return get_referral_for_user(user, pk, queryset=rows)


def referral_of_patient(user, pk) -> Referral:
    pk = resource_id_or_404(pk)
    referral = Referral.objects.visible_to(user).select_related("patient").filter(patient_id=pk).first()
    if referral is None:
        raise Http404("No such resource.")
    return referral


def referral_of_consent(user, pk) -> Referral:
    pk = resource_id_or_404(pk)
    referral = (
        Referral.objects.visible_to(user)
        .select_related("consent", "referring_organisation")
        .filter(consent__pk=pk)
        .first()
    )
    if referral is None:
        raise Http404("No such resource.")
    return referral


@dataclass(frozen=True)
class TaskPage:
    rows: list[Referral]
    next_cursor: str
    used: list[tuple[str, str]]  # the search parameters applied, for the self link


def _reference_id(value: str, kind: str, name: str) -> int:
    target = resource_id(value.removeprefix(f"{kind}/"))
    if target is None:
        raise FhirError.one(400, "invalid", f"{name} must be {kind}/<id>, not {value!r}.", name)
    return target


def _instant(value: str, name: str) -> datetime:
    # A "+01:00" offset sent unencoded in a query string arrives as " 01:00".
    value = value.replace(" ", "+")
    parsed = parse_datetime(value) or (
        datetime.combine(day, time.min) if (day := parse_date(value)) is not None else None
    )
    if parsed is None:
        raise FhirError.one(
            400, "invalid", f"{name} must be a FHIR date or instant, like gt2026-01-31T09:00:00Z.", name
        )
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def task_search_rows(user, params) -> tuple[QuerySet[Referral], list[tuple[str, str]]]:
    """The Tasks the user may see filtered by owner, status, focus and _lastUpdated, oldest change first (the
    index `referral_updated_idx` serves the order and the _lastUpdated range), and the parameters applied."""
    rows = _task_rows(user)
    used = []
    for value in params.getlist("owner"):
        rows = rows.filter(advice_organisation_id=_reference_id(value, "Organization", "owner"))
        used.append(("owner", value))
    for value in params.getlist("focus"):
        rows = rows.filter(pk=_reference_id(value, "ServiceRequest", "focus"))
        used.append(("focus", value))
    for value in params.getlist("status"):
        wanted = set(value.split(","))
        unknown = wanted - set(FHIR_TASK_STATUS.values())
        if unknown:
            raise FhirError.one(400, "code-invalid", f"Unknown Task status {', '.join(sorted(unknown))}.", "status")
        rows = rows.filter(status__in=[state for state, code in FHIR_TASK_STATUS.items() if code in wanted])
        used.append(("status", value))
    for value in params.getlist("_lastUpdated"):
        prefix = value[:2] if value[:2] in PREFIXES else "eq"
        moment = _instant(value[2:] if value[:2] in PREFIXES else value, "_lastUpdated")
        lookup = PREFIXES[prefix]
        rows = rows.filter(**{f"updated_at__{lookup}": moment} if lookup else {"updated_at": moment})
        used.append(("_lastUpdated", value))
    return rows.order_by(*TASK_ORDER), used


def task_search(user, params) -> TaskPage:
    """One page of the Tasks the user may see, filtered by owner, status, focus and _lastUpdated, oldest change
    first (so that a poller's `_lastUpdated=gt<last seen>` never misses one); FhirError (400) for a parameter
    that cannot be read. Unknown parameters are ignored, as FHIR allows, and left out of the self link."""
    rows, used = task_search_rows(user, params)
    count = params.get("_count", str(DEFAULT_COUNT))
    if resource_id(count) is None or not 1 <= int(count) <= MAX_COUNT:
        raise FhirError.one(400, "invalid", f"_count must be a number from 1 to {MAX_COUNT}.", "_count")
    count = int(count)
    used.append(("_count", str(count)))
    label = ["fhir-task", *TASK_ORDER, *(f"{k}={v}" for k, v in used)]
    cursor = params.get("_cursor", "")
    if cursor:
        position = decode_position(cursor, label)
        if position is None:
            raise FhirError.one(400, "invalid", "That page link is no longer valid: search again.", "_cursor")
        rows = rows.filter(keyset_filter(TASK_ORDER, position[0]))
    page = list(rows[: count + 1])
    more = len(page) > count
    page = page[:count]
    next_cursor = encode_position(label, [page[-1].updated_at, page[-1].pk]) if more else ""
    return TaskPage(rows=page, next_cursor=next_cursor, used=used)


def organisations_for(user, organisation_id: int) -> QuerySet[Organisation]:
    """The organisations a client (of `organisation_id`, acting as `user`, its system account) may read as an
    Organization: its own; those in a partnership with it (the advice service a health organisation refers to,
    the health organisations referring to an advice service); and those named on a referral it may see (a
    handed-over referral's referring and first advice organisations), so every Task.owner, Task.requester and
    ServiceRequest.performer it reads resolves."""
    partnerships = Partnership.objects.filter(
        Q(advice_organisation_id=organisation_id) | Q(health_organisations__id=organisation_id)
    ).values("pk")
    members = Partnership.health_organisations.through.objects.filter(partnership_id__in=partnerships)
    referrals = Referral.objects.visible_to(user)
    return Organisation.objects.filter(
        Q(pk=organisation_id)
        | Q(pk__in=Partnership.objects.filter(pk__in=partnerships).values("advice_organisation_id"))
        | Q(pk__in=members.values("organisation_id"))
        | Q(pk__in=referrals.values("referring_organisation_id"))
        | Q(pk__in=referrals.values("advice_organisation_id"))
    )


def organisation_for(user, organisation_id: int, pk) -> Organisation:
    pk = resource_id_or_404(pk)
    found = organisations_for(user, organisation_id).filter(pk=pk).first()
    if found is None:
        raise Http404("No such resource.")
    return found


def organisation_search(user, organisation_id: int, params) -> tuple[list[Organisation], list[tuple[str, str]]]:
    """The organisations the client may read, filtered by `identifier` (the ODS code, as
    https://fhir.nhs.uk/Id/ods-organization-code|<code> or the code alone; hjp's own id under its Id/organisation
    system), by name order; FhirError (400) for an identifier of another system."""
    rows = organisations_for(user, organisation_id)
    used = []
    for value in params.getlist("identifier"):
        system, _, code = value.rpartition("|")
        if system in ("", codes.ODS_CODE):
            rows = rows.filter(ods_code__iexact=code.strip())
        elif system == codes.identifier_system("organisation"):
            rows = rows.filter(pk=pk) if (pk := resource_id(code)) is not None else rows.none()
        else:
            raise FhirError.one(
                400,
                "not-supported",
                f"Search an Organization by its ODS code ({codes.ODS_CODE}|<code>) or hjp's id "
                f"({codes.identifier_system('organisation')}|<id>).",
                "identifier",
            )
        used.append(("identifier", value))
    return list(rows.order_by("name", "pk")[:MAX_COUNT]), used
