"""hjp's records as FHIR R4 resources (DESIGN.md, FHIR mapping): pure functions of rows already loaded.

A referral is a ServiceRequest (what is asked) and a Task (its state: `Task.status` per DESIGN.md's state
table, `businessStatus` the case status, `statusReason` where FHIR requires one); its patient a Patient (the
NHS number under the NHS's identifier system); its consent a Consent with the three scopes as provisions.
Ids are hjp's own: ServiceRequest and Task share the referral's id. A patient whose details were removed
(consent withdrawn, or the retention period over) is a Patient with no name, identifier, birth date or contact,
labelled REDACTED, whose narrative says what the pages say.

Every function takes rows loaded with what it reads (`api.fhir.queries` loads them) and makes no query."""

from datetime import date, datetime
from html import escape

from api.fhir import codes
from referrals.models import (
    FHIR_TASK_STATUS,
    ContactMethod,
    Referral,
    ReferralStatus,
    Sex,
)

S = ReferralStatus

SERVICE_REQUEST_STATUS = {
    S.DRAFT: "draft",
    S.SUBMITTED: "active",
    S.ACCEPTED: "active",
    S.IN_PROGRESS: "active",
    S.CLOSED: "completed",
    S.DECLINED: "revoked",
    S.REDIRECTED: "revoked",
    S.CANCELLED: "revoked",
    S.ENTERED_IN_ERROR: "entered-in-error",
}
# The states whose Task carries a statusReason (FHIR requires one for rejected, cancelled, entered in error).
STATUS_REASON_STATES = frozenset({S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR})
GENDER = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.ANOTHER: "other", Sex.PREFER_NOT_TO_SAY: "unknown"}


def instant(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _drop_empty(resource: dict) -> dict:
    """FHIR forbids empty elements: leave out every None, "" and [] (recursively)."""
    cleaned = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = _drop_empty(value)
        elif isinstance(value, list):
            value = [_drop_empty(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, "", {}, [])]
        if value not in (None, "", {}, []):
            cleaned[key] = value
    return cleaned


def organisation_reference(organisation) -> dict:
    """An Organization by hjp's id (served at /fhir/Organization/<id> to the clients that may see it), its ODS code
    where it has one."""
    identifier = (
        {"system": codes.ODS_CODE, "value": organisation.ods_code}
        if organisation.ods_code
        else {"system": codes.identifier_system("organisation"), "value": str(organisation.pk)}
    )
    return {"reference": f"Organization/{organisation.pk}", "identifier": identifier, "display": organisation.name}


def organisation_resource(organisation) -> dict:
    """The Organization: its name, kind, and identifiers (the ODS code under the NHS's system where it has one,
    and hjp's own id)."""
    health = organisation.kind == organisation.Kind.HEALTH
    return _drop_empty(
        {
            "resourceType": "Organization",
            "id": str(organisation.pk),
            "meta": _meta(organisation.updated_at),
            "identifier": [
                *([{"system": codes.ODS_CODE, "value": organisation.ods_code}] if organisation.ods_code else []),
                {"system": codes.identifier_system("organisation"), "value": str(organisation.pk)},
            ],
            "type": [
                {
                    "coding": [{"system": codes.ORGANIZATION_TYPE, "code": "prov", "display": "Healthcare Provider"}]
                    if health
                    else [],
                    "text": organisation.get_kind_display(),
                }
            ],
            "name": organisation.name,
        }
    )


def referral_identifier(referral: Referral) -> dict:
    return {"system": codes.identifier_system("referral"), "value": referral.reference}


def _meta(updated_at: datetime, *, redacted: bool = False) -> dict:
    meta = {"lastUpdated": instant(updated_at)}
    if redacted:
        meta["security"] = [{"system": codes.OBSERVATION_VALUE, "code": "REDACTED", "display": "redacted"}]
    return meta


def patient_resource(patient) -> dict:
    """The Patient. Once their details are removed, only the id, the REDACTED label and the removal notice."""
    if patient.redacted_at:
        return _drop_empty(
            {
                "resourceType": "Patient",
                "id": str(patient.pk),
                "meta": _meta(patient.updated_at, redacted=True),
                "text": {"status": "generated", "div": _div(patient.removal_notice)},
            }
        )
    preferred = patient.preferred_contact_method
    telecom = []
    if patient.phone:
        telecom.append(
            {
                "system": "phone",
                "value": patient.phone,
                "rank": 1 if preferred in (ContactMethod.PHONE, ContactMethod.TEXT) else 2,
            }
        )
    if patient.email:
        telecom.append(
            {"system": "email", "value": patient.email, "rank": 1 if preferred == ContactMethod.EMAIL else 2}
        )
    return _drop_empty(
        {
            "resourceType": "Patient",
            "id": str(patient.pk),
            "meta": _meta(patient.updated_at),
            "identifier": [{"system": codes.NHS_NUMBER, "value": patient.nhs_number}] if patient.nhs_number else [],
            "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
            "birthDate": day(patient.date_of_birth),
            "gender": GENDER.get(patient.sex),
            "telecom": telecom,
            "address": [{"text": patient.address, "postalCode": patient.postcode}]
            if patient.address or patient.postcode
            else [],
            "communication": [{"language": {"text": patient.language}, "preferred": True}] if patient.language else [],
        }
    )


def _div(text: str) -> str:
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(text)}</div>'


def consent_resource(referral: Referral) -> dict:
    """The Consent: who gave it and how, when, and the three scopes as nested provisions (permit or deny each).
    A withdrawn consent is inactive, its period ending when it was withdrawn."""
    consent = referral.consent
    patient = {"reference": f"Patient/{referral.patient_id}"}
    if consent.given_by == consent.GivenBy.REPRESENTATIVE and consent.representative_name:
        authority = f" ({consent.representative_authority})" if consent.representative_authority else ""
        performer = {"type": "RelatedPerson", "display": f"{consent.representative_name}{authority}"}
    elif consent.given_by == consent.GivenBy.REPRESENTATIVE:
        performer = {"type": "RelatedPerson", "display": "A representative with authority"}
    else:
        performer = patient
    return _drop_empty(
        {
            "resourceType": "Consent",
            "id": str(consent.pk),
            "meta": _meta(consent.updated_at),
            "extension": [
                {
                    "url": codes.extension_url("consent-method"),
                    "valueCoding": codes.coding("consent-method", consent.method),
                }
            ]
            if consent.method
            else [],
            "status": "inactive" if consent.is_withdrawn else "active",
            "scope": {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": codes.LOINC, "code": codes.CONSENT_CATEGORY_LOINC[0]}]}],
            "patient": patient,
            "dateTime": instant(consent.given_at),
            "performer": [performer],
            "organization": [organisation_reference(referral.referring_organisation)],
            "policyRule": {"coding": [{"system": codes.ACT_CODE, "code": "OPTIN"}]},
            "provision": {
                "type": "permit",
                "period": {"start": instant(consent.given_at), "end": instant(consent.withdrawn_at)},
                "provision": [
                    {
                        "type": "permit" if getattr(consent, field) and not consent.is_withdrawn else "deny",
                        "action": [{"coding": [codes.coding("consent-scope", scope)]}],
                    }
                    for scope, field in codes.CONSENT_SCOPE_FIELDS.items()
                ],
            },
        }
    )


def requester_role(referral: Referral) -> dict:
    """Who referred, as the ServiceRequest's contained PractitionerRole: the person a referring system named (with
    their professional registration), or else the referrer who made it on the pages; their profession and role,
    and their organisation."""
    named = getattr(referral, "referring_practitioner", None)
    profession = codes.coding("referrer-profession", referral.referrer_profession)
    if named is not None:
        practitioner = {
            "display": named.name,
            "identifier": {"system": named.identifier_system, "value": named.identifier} if named.identifier else None,
        }
        role = named.role or profession["display"]
    else:
        practitioner = {"display": referral.referrer.get_full_name() or str(referral.referrer)}
        role = profession["display"]
    return {
        "resourceType": "PractitionerRole",
        "id": "requester",
        "practitioner": practitioner,
        "organization": organisation_reference(referral.referring_organisation),
        "code": [{"coding": [profession], "text": role}],
    }


def service_request_resource(referral: Referral) -> dict:
    """The ServiceRequest: the problems (categories), urgency, the key date, who referred (a contained
    PractitionerRole: the referrer, their profession and organisation) and the advice service asked."""
    extensions = []
    if referral.known_deadline:
        extensions.append(
            {
                "url": codes.extension_url("known-deadline"),
                "extension": [
                    {"url": "date", "valueDate": day(referral.known_deadline)},
                    *(
                        [
                            {
                                "url": "kind",
                                "valueCoding": codes.coding("known-deadline-kind", referral.known_deadline_kind),
                            }
                        ]
                        if referral.known_deadline_kind
                        else []
                    ),
                    *(
                        [{"url": "note", "valueString": referral.known_deadline_note}]
                        if referral.known_deadline_note
                        else []
                    ),
                ],
            }
        )
    if referral.setting:
        extensions.append(
            {"url": codes.extension_url("setting"), "valueCoding": codes.coding("setting", referral.setting)}
        )
    if referral.expected_discharge_date:
        extensions.append(
            {"url": codes.extension_url("expected-discharge-date"), "valueDate": day(referral.expected_discharge_date)}
        )
    return _drop_empty(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.pk),
            "meta": _meta(referral.updated_at),
            "contained": [requester_role(referral)],
            "extension": extensions,
            "identifier": [referral_identifier(referral)],
            "status": SERVICE_REQUEST_STATUS[ReferralStatus(referral.status)],
            "intent": "order",
            "category": [
                {"coding": [{"system": codes.system_url("problem-category"), "code": c.code, "display": c.name}]}
                for c in referral.categories.all()
            ],
            "priority": referral.urgency,
            "code": {
                "coding": [
                    {"system": codes.SNOMED, "code": codes.REFERRAL_SNOMED[0], "display": codes.REFERRAL_SNOMED[1]},
                    codes.coding("referral-service", codes.REFERRAL_SERVICE[0]),
                ]
            },
            "subject": {"reference": f"Patient/{referral.patient_id}"},
            "occurrencePeriod": {"end": day(referral.known_deadline_due)} if referral.known_deadline else None,
            "authoredOn": instant(referral.submitted_at or referral.created_at),
            "requester": {"reference": "#requester"},
            "performer": [organisation_reference(referral.advice_organisation)],
            "supportingInfo": [{"reference": f"Consent/{referral.consent.pk}"}] if _has_consent(referral) else [],
            "note": [{"text": referral.description}] if referral.description else [],
        }
    )


def _has_consent(referral: Referral) -> bool:
    return getattr(referral, "consent", None) is not None


def current_step(referral: Referral):
    """The timeline step that put the referral in its state (its reason is the Task's statusReason): from the
    prefetched `status_changes`."""
    return next(
        (step for step in reversed(list(referral.status_changes.all())) if step.to_status == referral.status), None
    )


def outcome_outputs(issues) -> list[dict]:
    """What the case achieved, as Task.output: each counted outcome of each issue (loaded with them, as
    `outcomes.selectors.issues_with_counted_outcomes` does), coded from hjp's outcome-kind CodeSystem: money as
    Money in pounds (a year of a recurring award, and a one-off amount apart), a decision as its stage and result,
    any other outcome as true."""
    outputs = []
    for issue in issues:
        about = issue.sub_category.name if issue.sub_category_id else issue.category.name
        for money in issue.financial_outcomes.all():
            kind = codes.coding("outcome-kind", f"financial-{money.kind}")
            benefit = f" ({money.benefit.name})" if money.benefit_id else ""
            state = "confirmed" if money.confirmed else "expected"
            for amount, what in ((money.annual_amount, "a year"), (money.one_off_amount, "one-off")):
                if amount:
                    outputs.append(
                        {
                            "type": {"coding": [kind], "text": f"{kind['display']}{benefit}, {what}, {state}"},
                            "valueMoney": {"value": float(amount), "currency": "GBP"},
                        }
                    )
        for decision in issue.decisions.all():
            outputs.append(
                {
                    "type": {"coding": [codes.coding("outcome-kind", "decision")], "text": f"Decision: {about}"},
                    "valueString": f"{decision.get_stage_display()}: {decision.get_result_display().lower()}",
                }
            )
        for other in issue.non_financial_outcomes.all():
            kind = codes.coding("outcome-kind", f"non-financial-{other.kind}")
            outputs.append({"type": {"coding": [kind], "text": kind["display"]}, "valueBoolean": True})
    return outputs


def task_resource(referral: Referral, *, outputs: list[dict] | None = None) -> dict:
    """The Task: the referral's state as FHIR Task.status, the case status as businessStatus, and why it was
    declined, redirected, cancelled or marked entered in error as statusReason (coded for a decline); `outputs`
    (`outcome_outputs`) once the case closed, where consent scope 3 allows them to be told."""
    status_reason = None
    if referral.status in STATUS_REASON_STATES:
        step = current_step(referral)
        if step is not None:
            status_reason = {
                "coding": [codes.coding("decline-reason", step.decline_reason)] if step.decline_reason else [],
                "text": step.full_reason or ReferralStatus(referral.status).label,
            }
    return _drop_empty(
        {
            "resourceType": "Task",
            "id": str(referral.pk),
            "meta": _meta(referral.updated_at),
            "identifier": [referral_identifier(referral)],
            "basedOn": [{"reference": f"ServiceRequest/{referral.pk}"}],
            "status": FHIR_TASK_STATUS[ReferralStatus(referral.status)],
            "statusReason": status_reason,
            "businessStatus": {"coding": [codes.coding("case-status", referral.case_status)]}
            if referral.case_status
            else None,
            "intent": "order",
            "priority": referral.urgency,
            "code": {"coding": [{"system": codes.TASK_CODE, "code": "fulfill"}]},
            "focus": {"reference": f"ServiceRequest/{referral.pk}"},
            "for": {"reference": f"Patient/{referral.patient_id}"},
            "authoredOn": instant(referral.submitted_at or referral.created_at),
            "lastModified": instant(referral.updated_at),
            "requester": organisation_reference(referral.referring_organisation),
            "owner": organisation_reference(referral.advice_organisation),
            "output": outputs or [],
        }
    )
