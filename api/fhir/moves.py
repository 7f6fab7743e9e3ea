"""Moving a Task (PUT or PATCH of Task.status, statusReason, businessStatus) through the web pages' own services:
triage's accept and decline, the case lifecycle's first contact and close, the referral's cancel and entered
in error, and the case's business status. Who may make which move is theirs to say, as on the pages; a move
they refuse is a 409 with their message."""

import jsonpatch
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from fhir.resources.R4B.task import Task as FhirTask
from pydantic import ValidationError as PydanticValidationError

from api.fhir import codes, mapping
from api.fhir.outcome import FhirError, Issue
from casework import services as casework
from casework.models import CaseState, ClosureReason
from casework.permissions import case_workers
from hjp.accounts.models import normalise_email
from hjp.core.errors import DomainError
from hjp.core.versioning import StaleVersionError
from outcomes import services as outcome_services
from outcomes.models import NoOutcomeReason
from referrals import services as referrals
from referrals.models import CaseStatus, DeclineReason, Referral, ReferralStatus

S = ReferralStatus
# What a client may change in a Task; everything else it sends must be as the server has it.
WRITABLE = frozenset({"status", "statusReason", "businessStatus", "executionPeriod", "note", "extension"})
# Accepting names the advisor responsible for the case (a system account works no case): this extension on the
# Task, valueString = the email address of an advisor or supervisor of the advice service.
ADVISOR_EXTENSION = "responsible-advisor"
# Completing a Task whose case recorded no outcome says why, as the pages ask: this extension, valueCode one of
# outcomes.models.NoOutcomeReason's codes.
NO_OUTCOME_EXTENSION = "no-outcome-reason"
IGNORED = frozenset({"meta", "lastModified", "text", "output"})


def patched(current: dict, operations) -> dict:
    """The Task after a JSON Patch (application/json-patch+json); FhirError (400) for a patch that cannot apply."""
    if not isinstance(operations, list):
        raise FhirError.one(400, "structure", "A JSON Patch is a list of operations.", "Task")
    try:
        return jsonpatch.apply_patch(current, operations)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, ValueError) as error:
        raise FhirError.one(400, "structure", f"The patch cannot be applied: {error}", "Task") from None


def _coded(value: dict | None, system_name: str, allowed, where: str) -> str:
    for coding in (value or {}).get("coding") or []:
        if coding.get("system") == codes.system_url(system_name):
            if coding.get("code") not in allowed:
                raise FhirError.one(
                    422,
                    "code-invalid",
                    f"Unknown code {coding.get('code')!r}: use {codes.system_url(system_name)}.",
                    where,
                )
            return coding["code"]
    return ""


def check_well_formed(wanted) -> None:
    """A Task the R4 model accepts (types, dates, codes' shapes), so a malformed one is a 400 naming each
    problem, never a 500 further on."""
    if not isinstance(wanted, dict):
        raise FhirError.one(400, "structure", "Send a FHIR Task.", "Task")
    try:
        FhirTask.model_validate(wanted)
    except PydanticValidationError as error:
        raise FhirError(
            400,
            [
                Issue("structure", problem["msg"], (".".join(["Task", *(str(p) for p in problem["loc"])]),))
                for problem in error.errors(include_url=False)[:50]
            ],
        ) from None
    except (ValueError, TypeError, LookupError):
        raise FhirError.one(400, "structure", "This is not a valid FHIR Task.", "Task") from None


def _check_only_writable_changed(current: dict, wanted: dict) -> None:
    if wanted.get("resourceType") != "Task" or str(wanted.get("id", current["id"])) != current["id"]:
        raise FhirError.one(400, "invalid", "Send this Task, with its own id.", "Task.id")
    changed = {
        key
        for key in set(current) | set(wanted)
        if key not in WRITABLE | IGNORED | {"resourceType", "id"} and current.get(key) != wanted.get(key)
    }
    if changed:
        raise FhirError.one(
            422,
            "business-rule",
            "Only a Task's status, statusReason and businessStatus can change here: "
            f"{', '.join(sorted(changed))} must stay as they are.",
            *(f"Task.{key}" for key in sorted(changed)),
        )


@transaction.atomic
def task_move(*, referral: Referral, wanted: dict, actor) -> Referral:
    """Make the moves that turn the referral's Task into `wanted`: a change of status, then of businessStatus.
    FhirError: 422 for what the request lacks (a reason), 409 for a move the services refuse."""
    current = mapping.task_resource(referral)
    check_well_formed(wanted)
    _check_only_writable_changed(current, wanted)
    status, reason = wanted.get("status"), wanted.get("statusReason") or {}
    try:
        if status != current["status"]:
            _move(referral, status, reason, wanted, actor)
            referral = Referral.objects.get(pk=referral.pk)
        business = _coded(wanted.get("businessStatus"), "case-status", CaseStatus.values, "Task.businessStatus")
        # Only a business status the client changed: one copied from the Task as it was follows the move.
        if business and wanted.get("businessStatus") != current.get("businessStatus"):
            casework.case_set_business_status(case=referral.case, business_status=business, actor=actor)
    except (DomainError, StaleVersionError) as refused:
        raise FhirError.one(409, "business-rule", getattr(refused, "message", str(refused)), "Task.status") from None
    except Referral.case.RelatedObjectDoesNotExist:
        raise FhirError.one(
            409, "business-rule", "This referral has no case: accept it first.", "Task.status"
        ) from None
    return referral


def _extension_value(wanted: dict, name: str, kind: str):
    url = codes.extension_url(name)
    extensions = wanted.get("extension")
    found = (
        [e for e in extensions if isinstance(e, dict) and e.get("url") == url] if isinstance(extensions, list) else []
    )
    return found[0].get(kind) if found else None


def _no_outcome_reason(wanted: dict) -> str:
    value = _extension_value(wanted, NO_OUTCOME_EXTENSION, "valueCode")
    if value is None:
        return ""
    if value not in NoOutcomeReason.values:
        raise FhirError.one(
            422,
            "code-invalid",
            f"{codes.extension_url(NO_OUTCOME_EXTENSION)} takes one of: {', '.join(NoOutcomeReason.values)}.",
            "Task.extension",
        )
    return value


def _named_advisor(referral: Referral, wanted: dict):
    """The case worker the accepting Task names in its responsible-advisor extension; FhirError (422) otherwise."""
    url = codes.extension_url(ADVISOR_EXTENSION)
    named = [e for e in wanted.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]
    email = named[0].get("valueString") if named else None
    advisor = (
        case_workers(referral.advice_organisation_id).filter(email=normalise_email(email)).first()
        if isinstance(email, str) and email.strip()
        else None
    )
    if advisor is None:
        raise FhirError.one(
            422,
            "required" if not named else "value",
            "Name the advisor responsible for the case: an advisor or supervisor of "
            f"{referral.advice_organisation.name}, by email address, as Task.extension {url} (valueString).",
            "Task.extension",
        )
    return advisor


def _move(referral: Referral, status: str, reason: dict, wanted: dict, actor) -> None:
    text = (reason.get("text") or "").strip()
    if status == "accepted":
        casework.referral_accept(referral=referral, actor=actor, advisor=_named_advisor(referral, wanted))
    elif status == "rejected":
        code = _coded(reason, "decline-reason", DeclineReason.values, "Task.statusReason")
        if not code:
            raise FhirError.one(
                422,
                "required",
                f"Give the reason for declining as Task.statusReason, coded from {codes.system_url('decline-reason')}, "
                "with the explanation the referrer reads as its text.",
                "Task.statusReason",
            )
        casework.referral_decline(referral=referral, actor=actor, reason=code, explanation=text)
    elif status == "in-progress":
        try:
            start = parse_datetime((wanted.get("executionPeriod") or {}).get("start", "") or "")
        except (ValueError, TypeError):
            raise FhirError.one(
                400, "structure", "executionPeriod.start is not a real date and time.", "Task.executionPeriod.start"
            ) from None
        casework.case_transition(
            case=referral.case, to_state=CaseState.IN_PROGRESS, actor=actor, first_contact_at=start or timezone.now()
        )
    elif status == "completed":
        closure = _coded(reason, "closure-reason", ClosureReason.values, "Task.statusReason")
        # The pages' close: an outcome or a reason for none, and the referrer's outcome report in the same transaction.
        outcome_services.case_close_with_outcomes(
            case=referral.case,
            actor=actor,
            version=None,
            closure_reason=closure or ClosureReason.WORK_COMPLETED,
            note=text,
            no_outcome_reason=_no_outcome_reason(wanted),
        )
    elif status in ("cancelled", "entered-in-error"):
        referrals.referral_transition(
            referral=referral,
            to_status=S.CANCELLED if status == "cancelled" else S.ENTERED_IN_ERROR,
            actor=actor,
            reason=text,
        )
    else:
        raise FhirError.one(
            422,
            "not-supported",
            "A Task moves to accepted, rejected, in-progress, completed, cancelled or entered-in-error here.",
            "Task.status",
        )
