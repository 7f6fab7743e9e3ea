"""The advice side's redirect through FHIR: `POST /fhir/Task/<id>/$redirect` with a Parameters resource does what
triage's *Redirect* page does, through the page's own form (`casework.forms.RedirectForm`: a provider of the
service's directory, a note for the referrer, and optionally the patient's consent to share with the provider,
which hands the referral over) and service (`casework.services.referral_redirect`: the same rules, timeline
entry and audit entries). Its form errors are an OperationOutcome naming the parameter; a refusal is a 409."""

import uuid

from django.db import transaction
from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError as PydanticValidationError

from api.fhir.outcome import FhirError, Issue
from api.fhir.submission import _when
from casework import selectors as casework_selectors
from casework import services as casework
from casework.forms import RedirectForm
from hjp.core.errors import DomainError
from hjp.core.forms import SUBMISSION_TOKEN
from referrals.models import Referral

# Where each of the form's fields comes from in the Parameters.
PARAMETER_PATHS = {
    "provider": "Parameters.parameter[provider]",
    "note": "Parameters.parameter[note]",
    "share_given_by": "Parameters.parameter[share].part[given-by]",
    "share_method": "Parameters.parameter[share].part[method]",
    "share_said_at": "Parameters.parameter[share].part[said-at]",
}


def _value(parameter: dict) -> str:
    for key in ("valueString", "valueCode", "valueInteger", "valueDateTime", "valueId"):
        if key in parameter:
            return str(parameter[key])
    return ""


def _form_data(parameters) -> dict:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise FhirError.one(400, "structure", "Send a Parameters resource.", "Parameters")
    try:
        Parameters.model_validate(parameters)
    except PydanticValidationError as error:
        raise FhirError(
            400,
            [
                Issue("structure", problem["msg"], (".".join(["Parameters", *(str(p) for p in problem["loc"])]),))
                for problem in error.errors(include_url=False)[:50]
            ],
        ) from None
    except (ValueError, TypeError, LookupError):
        raise FhirError.one(400, "structure", "This is not a valid FHIR Parameters resource.", "Parameters") from None
    given = {p.get("name"): p for p in parameters.get("parameter") or [] if isinstance(p, dict)}
    data = {
        SUBMISSION_TOKEN: str(uuid.uuid4()),
        "provider": _value(given.get("provider") or {}),
        "note": _value(given.get("note") or {}),
    }
    share = given.get("share")
    if share is not None:
        parts = {p.get("name"): _value(p) for p in share.get("part") or []}
        data |= {
            "share": "on",
            "share_given_by": parts.get("given-by", ""),
            "share_method": parts.get("method", ""),
            "share_said_at": _when(parts.get("said-at", "")),
        }
    return data


@transaction.atomic
def task_redirect(*, referral: Referral, parameters, actor) -> Referral:
    """Redirect the referral as the page does; FhirError: 400 malformed, 422 what the form refuses, 409 what the
    service refuses (not a submitted referral of the actor's service, a provider closed to referrals, ...)."""
    providers = casework_selectors.advice_providers(user=actor, active_only=True).filter(
        advice_organisation_id=referral.advice_organisation_id
    )
    form = RedirectForm(_form_data(parameters), providers=providers)
    if not form.is_valid():
        raise FhirError(
            422,
            [
                Issue("invalid", str(message), (PARAMETER_PATHS.get(name, "Parameters"),))
                for name, messages in form.errors.items()
                for message in messages
            ],
        )
    try:
        casework.referral_redirect(
            referral=referral,
            actor=actor,
            provider=form.cleaned_data["provider"],
            note=form.cleaned_data["note"],
            share=form.share_consent(),
        )
    except DomainError as refused:
        raise FhirError.one(409, "business-rule", refused.message, "Task.status") from None
    return referral
