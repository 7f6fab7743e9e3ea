"""hjp's records as FHIR R4 resources: every resource validates with fhir.resources' R4B models (R4B's Patient,
Consent, ServiceRequest and Task are R4's), and says what the pages say."""

from datetime import date

import pytest
from django.utils import timezone
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from api.fhir import codes, mapping
from hjp.core.redaction import ErasureReason
from referrals.models import Consent, DeclineReason, KnownDeadlineKind, ReferralStatus, Urgency
from tests import factories

pytestmark = pytest.mark.django_db

S = ReferralStatus


def valid(model, resource: dict) -> dict:
    """The resource, after checking that the R4 model accepts it as it is."""
    model.model_validate(resource)
    return resource


def test_patient_carries_the_nhs_number_under_the_nhs_system():
    patient = factories.PatientFactory(
        given_name="Ada", family_name="Lovelace", nhs_number="9434765919", email="ada@example.com", sex="female"
    )
    resource = valid(FhirPatient, mapping.patient_resource(patient))
    assert resource["identifier"] == [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]
    assert resource["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada"]}]
    assert resource["birthDate"] == "1960-05-17"
    assert resource["gender"] == "female"
    assert {t["system"]: t["rank"] for t in resource["telecom"]} == {"phone": 1, "email": 2}
    assert resource["address"] == [{"text": "1 High Street", "postalCode": "LS1 1AA"}]


def test_a_redacted_patient_has_no_name_number_or_contact():
    patient = factories.PatientFactory(
        given_name="",
        family_name="",
        nhs_number="",
        phone="",
        address="",
        postcode="",
        date_of_birth=None,
        redacted_at=timezone.now(),
        redaction_reason=ErasureReason.CONSENT_WITHDRAWN,
    )
    resource = valid(FhirPatient, mapping.patient_resource(patient))
    assert set(resource) == {"resourceType", "id", "meta", "text"}
    assert resource["meta"]["security"][0]["code"] == "REDACTED"
    assert "Details removed (consent withdrawn on" in resource["text"]["div"]


def test_consent_has_the_three_scopes_as_provisions():
    referral = factories.ReferralFactory(consent__medical_evidence=False)
    resource = valid(FhirConsent, mapping.consent_resource(referral))
    assert resource["status"] == "active"
    scopes = {p["action"][0]["coding"][0]["code"]: p["type"] for p in resource["provision"]["provision"]}
    assert scopes == {"share-with-advice-service": "permit", "medical-evidence": "deny", "outcome-feedback": "permit"}
    assert resource["performer"] == [{"reference": f"Patient/{referral.patient_id}"}]
    assert resource["extension"][0]["valueCoding"]["code"] == "verbal"


def test_a_withdrawn_consent_is_inactive_and_denies_every_scope():
    referral = factories.ReferralFactory(
        consent__given_by=Consent.GivenBy.REPRESENTATIVE,
        consent__representative_name="Grace Hopper",
        consent__representative_authority="lasting power of attorney",
    )
    Consent.objects.filter(referral=referral).update(withdrawn_at=timezone.now(), withdrawn_by=referral.referrer)
    referral.consent.refresh_from_db()
    resource = valid(FhirConsent, mapping.consent_resource(referral))
    assert resource["status"] == "inactive"
    assert {p["type"] for p in resource["provision"]["provision"]} == {"deny"}
    assert resource["provision"]["period"]["end"]
    assert resource["performer"] == [{"type": "RelatedPerson", "display": "Grace Hopper (lasting power of attorney)"}]


def test_service_request_has_category_problems_urgency_deadline_and_requester():
    referral = factories.ReferralFactory(
        urgency=Urgency.URGENT,
        known_deadline=date(2026, 1, 31),
        known_deadline_kind=KnownDeadlineKind.DECISION_LETTER,
        known_deadline_note="PIP decision letter",
    )
    resource = valid(ServiceRequest, mapping.service_request_resource(referral))
    assert resource["status"] == "active"
    assert resource["priority"] == "urgent"
    assert resource["category"] == [
        {"coding": [{"system": codes.system_url("problem-category"), "code": "benefits", "display": "Benefits"}]}
    ]
    assert resource["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "41920009",
        "display": "Patient referral for socioeconomic factors",
    }
    # A decision letter's date starts the appeal clock: the reconsideration is due a calendar month later.
    assert resource["occurrencePeriod"] == {"end": "2026-02-28"}
    deadline = resource["extension"][0]
    assert {
        e["url"]: e.get("valueDate") or e.get("valueString") or e["valueCoding"]["code"] for e in deadline["extension"]
    } == {"date": "2026-01-31", "kind": "decision_letter", "note": "PIP decision letter"}
    assert resource["requester"] == {"reference": "#requester"}
    assert resource["contained"][0]["organization"]["display"] == referral.referring_organisation.name
    assert resource["performer"][0]["reference"] == f"Organization/{referral.advice_organisation_id}"
    assert resource["supportingInfo"] == [{"reference": f"Consent/{referral.consent.pk}"}]


@pytest.mark.parametrize(
    ("state", "task_status"),
    [
        (S.DRAFT, "draft"),
        (S.SUBMITTED, "requested"),
        (S.ACCEPTED, "accepted"),
        (S.DECLINED, "rejected"),
        (S.REDIRECTED, "rejected"),
        (S.IN_PROGRESS, "in-progress"),
        (S.CLOSED, "completed"),
        (S.CANCELLED, "cancelled"),
        (S.ENTERED_IN_ERROR, "entered-in-error"),
    ],
)
def test_task_status_follows_the_state_table(state, task_status):
    referral = factories.ReferralFactory(status=state)
    if state in mapping.STATUS_REASON_STATES:
        factories.ReferralStatusChangeFactory(
            referral=referral,
            to_status=state,
            reason="Lives outside the area" if state != S.DECLINED else "Lives in Wales",
            decline_reason=DeclineReason.OUT_OF_AREA if state == S.DECLINED else "",
        )
    resource = valid(Task, mapping.task_resource(referral))
    assert resource["status"] == task_status
    assert resource["focus"] == {"reference": f"ServiceRequest/{referral.pk}"}
    assert resource["for"] == {"reference": f"Patient/{referral.patient_id}"}
    assert ("statusReason" in resource) == (state in mapping.STATUS_REASON_STATES)


def test_a_declined_task_gives_the_coded_reason_and_the_explanation():
    referral = factories.ReferralFactory(status=S.DECLINED)
    factories.ReferralStatusChangeFactory(
        referral=referral, to_status=S.DECLINED, decline_reason=DeclineReason.OUT_OF_AREA, reason="Lives in Wales."
    )
    reason = valid(Task, mapping.task_resource(referral))["statusReason"]
    assert reason["coding"] == [codes.coding("decline-reason", "out_of_area")]
    assert reason["text"] == "Patient lives outside our area. Lives in Wales."


def test_business_status_is_the_case_status():
    referral = factories.ReferralFactory(status=S.IN_PROGRESS, case_status="tribunal_listed")
    resource = valid(Task, mapping.task_resource(referral))
    assert resource["businessStatus"]["coding"] == [
        {"system": codes.system_url("case-status"), "code": "tribunal_listed", "display": "Tribunal listed"}
    ]


@pytest.mark.parametrize("name", sorted(codes.CODE_SYSTEMS))
def test_every_code_system_validates(name):
    resource = valid(CodeSystem, codes.code_system_resource(name))
    assert resource["url"].endswith(f"/fhir/CodeSystem/{name}")
    assert resource["count"] == len(resource["concept"]) > 0


def test_the_outcomes_are_the_tasks_output():
    from outcomes.selectors.case import issues_with_counted_outcomes

    case = factories.CaseFactory(referral=factories.ReferralFactory(status=S.CLOSED))
    issue = factories.CaseIssueFactory(case=case)
    factories.FinancialOutcomeFactory(issue=issue, one_off_amount=350)
    factories.DecisionOutcomeFactory(issue=issue)
    factories.NonFinancialOutcomeFactory(issue=issue, kind="eviction_prevented")
    factories.NonFinancialOutcomeFactory(
        issue=issue,
        kind="housing_improved",
        entered_in_error_at=timezone.now(),
        entered_in_error_by=case.advisor,
        entered_in_error_reason="Another patient's",
    )
    outputs = mapping.outcome_outputs(issues_with_counted_outcomes(case=case))
    resource = valid(Task, mapping.task_resource(case.referral, outputs=outputs))
    got = [
        (o["type"]["coding"][0]["code"], next(v for k, v in o.items() if k.startswith("value")))
        for o in resource["output"]
    ]
    assert got == [
        ("financial-new_or_increased_award", {"value": 5200.0, "currency": "GBP"}),
        ("financial-new_or_increased_award", {"value": 350.0, "currency": "GBP"}),
        ("decision", "Initial claim: awarded"),
        ("non-financial-eviction_prevented", True),
    ]
    assert (
        resource["output"][0]["type"]["text"]
        == "New or increased benefit award (Personal Independence Payment (PIP)), a year, confirmed"
    )
