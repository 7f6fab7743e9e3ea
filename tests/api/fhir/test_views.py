"""HL7 FHIR R4 under /fhir/, driven as a system would: bearer tokens, application/fhir+json, every error an
OperationOutcome. The clients are registered API clients (tests/api/conftest.py), acting with their
organisation's rights through their system account."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from api.fhir import codes
from api.fhir.codes import extension_url
from api.fhir.moves import ADVISOR_EXTENSION, NO_OUTCOME_EXTENSION
from api.fhir.views import MAX_BODY_BYTES
from hjp.audit.models import AuditEvent
from referrals import services as referral_services
from referrals.models import Referral, ReferralStatus
from tests import factories
from tests.api.conftest import register, token_for
from tests.api.fhir.bundles import CONSENT, PATIENT, example_bundle

pytestmark = pytest.mark.django_db
FHIR_JSON = "application/fhir+json"
QUERIES_PER_SEARCH = 5


class Fhir:
    """A FHIR client on Django's test client: a bearer token (or none), FHIR JSON in and out."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, data=None, **headers):
        return self.client.get(path, data, headers=self.headers | headers)

    def post(self, path, body, content_type=FHIR_JSON, **headers):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return self.client.post(path, data, content_type=content_type, headers=self.headers | headers)

    def put(self, path, body, **headers):
        return self.client.put(path, json.dumps(body), content_type=FHIR_JSON, headers=self.headers | headers)

    def patch(self, path, operations, **headers):
        return self.client.patch(
            path, json.dumps(operations), content_type="application/json-patch+json", headers=self.headers | headers
        )


@pytest.fixture
def fhir(client):
    def make(new_client=None, **kwargs):
        return Fhir(client, token_for(new_client, **kwargs) if new_client else None)

    return make


def outcome(response, status: int) -> list[dict]:
    """The OperationOutcome's issues, after checking the status, the content type and the resource."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    OperationOutcome.model_validate(body)
    return body["issue"]


def resource(response, model) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    model.model_validate(body)
    return body


# --- what the server says it does ----------------------------------------------------------------------------


def test_metadata_is_a_truthful_capability_statement(client):
    statement = resource(client.get("/fhir/metadata"), CapabilityStatement)
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    assert {r["type"]: [i["code"] for i in r["interaction"]] for r in rest["resource"]} == {
        "Task": ["read", "search-type", "update", "patch"],
        "ServiceRequest": ["read"],
        "Consent": ["read"],
        "Patient": ["read"],
        "Organization": ["read", "search-type"],
        "CodeSystem": ["read"],
        "StructureDefinition": ["read"],
        "Subscription": ["create", "read", "search-type", "delete"],
    }
    assert [p["name"] for p in rest["resource"][0]["searchParam"]] == [
        "owner",
        "status",
        "focus",
        "_lastUpdated",
        "_count",
    ]
    assert rest["interaction"] == [{"code": "transaction"}]


def test_each_code_system_is_published_at_its_canonical_url(client):
    for name in codes.CODE_SYSTEMS:
        url = codes.system_url(name)
        published = resource(client.get(url.removeprefix(codes.base_url().removesuffix("/fhir"))), CodeSystem)
        assert published["url"] == url
    assert outcome(client.get("/fhir/CodeSystem/made-up"), 404)[0]["code"] == "not-found"


def test_what_the_server_does_not_do_is_an_operation_outcome(client, health_client, fhir):
    assert outcome(client.get("/fhir/Observation/1"), 404)[0]["code"] == "not-supported"
    assert outcome(fhir(health_client).get("/fhir/Observation"), 404)


# --- tokens and scopes --------------------------------------------------------------------------------------------


def test_no_token_is_401_and_a_token_without_the_scope_403(client, health_client, sent_referral, fhir):
    assert outcome(client.get(f"/fhir/Task/{sent_referral.pk}"), 401)[0]["code"] == "login"
    read_only = fhir(health_client, scope="referrals:read")
    assert outcome(read_only.post("/fhir/", example_bundle()), 403)[0]["code"] == "forbidden"
    assert outcome(read_only.patch(f"/fhir/Task/{sent_referral.pk}", []), 403)


def test_a_signed_in_session_gets_nothing(client, referrer_user):
    client.force_login(referrer_user)
    assert outcome(client.get("/fhir/Task"), 401)


# --- submitting a referral ------------------------------------------------------------------------------------


def test_the_readme_example_bundle_makes_one_submitted_referral(health_client, fhir, partnership):
    response = fhir(health_client).post("/fhir/", example_bundle())
    answer = resource(response, Bundle)
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.referrer == health_client.client.service_user
    assert referral.advice_organisation == partnership.advice_organisation
    assert answer["type"] == "transaction-response"
    assert [e["response"]["location"] for e in answer["entry"]] == [
        f"Patient/{referral.patient_id}",
        f"Consent/{referral.consent.pk}",
        f"ServiceRequest/{referral.pk}",
        f"Task/{referral.pk}",
    ]
    assert {e["response"]["status"] for e in answer["entry"]} == {"201 Created"}
    created = AuditEvent.objects.get(
        action=AuditEvent.Action.CREATE, object_type="referrals.referral", object_id=str(referral.pk)
    )
    assert created.actor == health_client.client.service_user
    assert created.actor.get_full_name() == f"API client: {health_client.client.name}"
    assert created.path == "/fhir/"


def test_the_base_url_without_its_slash_takes_the_bundle_too(health_client, fhir, partnership):
    answer = resource(fhir(health_client).post("/fhir", example_bundle()), Bundle)
    assert answer["type"] == "transaction-response"
    assert Referral.objects.count() == 1


def test_a_retried_bundle_with_its_idempotency_key_makes_one_referral(health_client, fhir, partnership):
    system = fhir(health_client)
    first = system.post("/fhir/", example_bundle(), **{"Idempotency-Key": "gp-123"})
    again = system.post("/fhir/", example_bundle(), **{"Idempotency-Key": "gp-123"})
    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Referral.objects.count() == 1
    other = example_bundle()
    other["entry"][PATIENT]["resource"]["name"][0]["family"] = "Someone Else"
    assert outcome(system.post("/fhir/", other, **{"Idempotency-Key": "gp-123"}), 422)[0]["code"] == "business-rule"
    assert Referral.objects.count() == 1


def test_a_conditional_create_makes_one_referral_for_one_identifier(health_client, fhir, partnership):
    system = fhir(health_client)
    first = system.post("/fhir/", example_bundle())
    again = system.post("/fhir/", example_bundle())
    assert again.json() == first.json()
    assert Referral.objects.count() == 1


def test_bad_bundles_get_an_operation_outcome_naming_each_problem(health_client, fhir, partnership):
    system = fhir(health_client)
    no_consent = example_bundle()
    del no_consent["entry"][CONSENT]
    assert outcome(system.post("/fhir/", no_consent), 422)[0]["expression"] == ["Bundle.entry"]
    bad_number = example_bundle()
    bad_number["entry"][PATIENT]["resource"]["identifier"][0]["value"] = "4857773456"
    issues = outcome(system.post("/fhir/", bad_number), 422)
    assert issues[0]["expression"] == [f"Bundle.entry[{PATIENT}].resource.identifier[0].value"]
    assert "check digit" in issues[0]["diagnostics"]
    assert outcome(system.post("/fhir/", "{not json"), 400)[0]["code"] == "invalid"
    assert outcome(system.post("/fhir/", "[]"), 400)[0]["code"] == "structure"
    assert outcome(system.post("/fhir/", "x", content_type="text/plain"), 415)
    assert Referral.objects.count() == 0


def test_an_oversized_bundle_is_refused_with_413(health_client, fhir, partnership):
    big = example_bundle()
    big["entry"][2]["resource"]["note"][0]["text"] = "x" * (MAX_BODY_BYTES + 1)
    assert outcome(fhir(health_client).post("/fhir/", big), 413)[0]["code"] == "too-costly"
    assert Referral.objects.count() == 0


def test_a_client_whose_organisation_refers_nowhere_is_told(health_client, fhir):
    # Its organisation is in no partnership (the fixture's partnership is not asked for).
    issues = outcome(fhir(health_client).post("/fhir/", example_bundle()), 422)
    assert issues[0]["code"] == "business-rule"
    assert "refers to no advice service" in issues[0]["diagnostics"]
    assert Referral.objects.count() == 0


def test_an_advice_services_client_holds_no_scope_to_refer(advice_client, fhir):
    assert outcome(fhir(advice_client).post("/fhir/", example_bundle()), 403)[0]["code"] == "forbidden"


def test_a_duplicate_is_refused_with_its_reason_to_give(health_client, fhir, partnership):
    system = fhir(health_client)
    system.post("/fhir/", example_bundle())
    again = example_bundle()
    del again["entry"][2]["request"]["ifNoneExist"]
    issues = outcome(system.post("/fhir/", again), 422)
    assert "already has an open referral" in issues[0]["diagnostics"]
    assert Referral.objects.count() == 1


# --- reading --------------------------------------------------------------------------------------------------


def test_each_resource_reads_and_is_audited_in_the_clients_name(health_client, sent_referral, fhir):
    system = fhir(health_client)
    paths = {
        f"/fhir/Task/{sent_referral.pk}": Task,
        f"/fhir/ServiceRequest/{sent_referral.pk}": ServiceRequest,
        f"/fhir/Consent/{sent_referral.consent.pk}": FhirConsent,
        f"/fhir/Patient/{sent_referral.patient_id}": FhirPatient,
    }
    for path, model in paths.items():
        resource(system.get(path), model)
    views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(sent_referral.pk))
    assert sorted(views.values_list("summary", flat=True)) == [
        "FHIR Consent",
        "FHIR Patient",
        "FHIR ServiceRequest",
        "FHIR Task",
    ]
    assert {e.actor_id for e in views} == {health_client.client.service_user.pk}


@pytest.mark.parametrize(
    ("kind", "queries"),
    # The token read with its client and system account, that account's roles, the referral with what the resource
    # shows (a Task: its timeline steps; a ServiceRequest: those and its problem categories), the audit entry.
    [("Task", 5), ("ServiceRequest", 6), ("Consent", 4), ("Patient", 4)],
)
def test_each_read_costs_a_fixed_number_of_queries(
    kind, queries, health_client, sent_referral, client, django_assert_num_queries
):
    ids = {
        "Task": sent_referral.pk,
        "ServiceRequest": sent_referral.pk,
        "Consent": sent_referral.consent.pk,
        "Patient": sent_referral.patient_id,
    }
    system = Fhir(client, token_for(health_client))
    with django_assert_num_queries(queries):
        assert system.get(f"/fhir/{kind}/{ids[kind]}").status_code == 200


def test_another_organisations_client_finds_nothing(sent_referral, other_health_org, fhir):
    stranger = fhir(register(other_health_org))
    for path in (
        f"/fhir/Task/{sent_referral.pk}",
        f"/fhir/ServiceRequest/{sent_referral.pk}",
        f"/fhir/Consent/{sent_referral.consent.pk}",
        f"/fhir/Patient/{sent_referral.patient_id}",
    ):
        assert outcome(stranger.get(path), 404)[0]["code"] == "not-found"
    assert resource(stranger.get("/fhir/Task"), Bundle)["entry"] == []


def test_a_withdrawn_patient_is_redacted_and_the_task_says_cancelled(health_client, sent_referral, fhir):
    referral_services.consent_withdraw(referral=sent_referral, actor=health_client.client.service_user)
    system = fhir(health_client)
    patient = resource(system.get(f"/fhir/Patient/{sent_referral.patient_id}"), FhirPatient)
    assert set(patient) == {"resourceType", "id", "meta", "text"}
    assert patient["meta"]["security"][0]["code"] == "REDACTED"
    assert sent_referral.patient.family_name not in json.dumps(patient)
    assert resource(system.get(f"/fhir/Task/{sent_referral.pk}"), Task)["status"] == "cancelled"
    assert resource(system.get(f"/fhir/Consent/{sent_referral.consent.pk}"), FhirConsent)["status"] == "inactive"
    request = resource(system.get(f"/fhir/ServiceRequest/{sent_referral.pk}"), ServiceRequest)
    assert request["status"] == "revoked"
    assert "PIP refused" not in json.dumps(request)


# --- searching ----------------------------------------------------------------------------------------------


def _referrals(n, health_client, health_org, partnership):
    return [
        factories.ReferralFactory(
            referrer=health_client.client.service_user, referring_organisation=health_org, partnership=partnership
        )
        for _ in range(n)
    ]


def test_task_search_by_owner_status_focus_and_last_updated(health_client, health_org, partnership, fhir):
    one, two, three = _referrals(3, health_client, health_org, partnership)
    Referral.objects.filter(pk=three.pk).update(status=ReferralStatus.ACCEPTED)
    Referral.objects.filter(pk=one.pk).update(updated_at=timezone.now() - timedelta(days=2))
    system = fhir(health_client)

    def ids(**params):
        bundle = resource(system.get("/fhir/Task", params), Bundle)
        assert bundle["type"] == "searchset"
        return [int(e["resource"]["id"]) for e in bundle["entry"]]

    owner = f"Organization/{partnership.advice_organisation_id}"
    assert ids(owner=owner, status="requested") == [one.pk, two.pk]
    assert ids(status="accepted,rejected") == [three.pk]
    assert ids(focus=f"ServiceRequest/{two.pk}") == [two.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert sorted(ids(_lastUpdated=f"gt{since}")) == sorted([two.pk, three.pk])
    assert ids(owner="Organization/0") == []
    # An offset sent unencoded ("+" read as a space) is still the offset.
    unencoded = resource(system.get(f"/fhir/Task?_lastUpdated=gt{since.replace('+', '%20')}"), Bundle)
    assert sorted(int(e["resource"]["id"]) for e in unencoded["entry"]) == sorted([two.pk, three.pk])
    assert outcome(system.get("/fhir/Task", {"status": "bogus"}), 400)[0]["code"] == "code-invalid"
    assert outcome(system.get("/fhir/Task", {"_lastUpdated": "gtyesterday"}), 400)
    assert outcome(system.get("/fhir/Task", {"_count": "0"}), 400)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LIST, summary="FHIR Task search").count() == 6


def test_task_search_pages_through_next_links(health_client, health_org, partnership, fhir):
    made = _referrals(5, health_client, health_org, partnership)
    system = fhir(health_client)
    seen, url = [], "/fhir/Task?_count=2"
    while url:
        bundle = resource(system.get(url.removeprefix(codes.base_url().removesuffix("/fhir"))), Bundle)
        seen += [int(e["resource"]["id"]) for e in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), "")
    assert seen == [r.pk for r in made]
    assert outcome(system.get("/fhir/Task", {"_cursor": "forged"}), 400)


@pytest.mark.parametrize("rows", [1, 8])
def test_task_search_costs_the_same_for_few_and_many(
    rows, health_client, health_org, partnership, fhir, django_assert_num_queries
):
    made = _referrals(rows, health_client, health_org, partnership)
    for referral in made[::2]:
        factories.ReferralStatusChangeFactory(referral=referral)
    system = fhir(health_client)
    # The token read with its client and system account, that account's roles, the page, its timeline steps
    # (for the status reasons) and the audit entry: 5, for one Task or many.
    with django_assert_num_queries(QUERIES_PER_SEARCH):
        bundle = resource(system.get("/fhir/Task"), Bundle)
    assert len(bundle["entry"]) == rows


def accept_with(advisor) -> list[dict]:
    """The JSON Patch that accepts a Task, naming the advisor responsible for the case."""
    return [
        {"op": "replace", "path": "/status", "value": "accepted"},
        {
            "op": "add",
            "path": "/extension",
            "value": [{"url": extension_url(ADVISOR_EXTENSION), "valueString": advisor.email}],
        },
    ]


# --- moving Tasks -------------------------------------------------------------------------------------------------


def test_the_advice_service_moves_a_task_through_the_pages_transitions(
    advice_client, advisor_user, sent_referral, fhir
):
    system = fhir(advice_client)
    path = f"/fhir/Task/{sent_referral.pk}"
    unnamed = system.patch(path, [{"op": "replace", "path": "/status", "value": "accepted"}])
    assert outcome(unnamed, 422)[0]["expression"] == ["Task.extension"]
    accepted = resource(system.patch(path, accept_with(advisor_user)), Task)
    assert accepted["status"] == "accepted"
    assert accepted["businessStatus"]["coding"][0]["code"] == "awaiting_first_contact"
    sent_referral.refresh_from_db()
    assert sent_referral.case.advisor == advisor_user

    working = resource(system.patch(path, [{"op": "replace", "path": "/status", "value": "in-progress"}]), Task)
    assert working["status"] == "in-progress"
    assert working["businessStatus"]["coding"][0]["code"] == "gathering_evidence"

    lodged = dict(working, businessStatus={"coding": [codes.coding("case-status", "appeal_lodged")]})
    assert resource(system.put(path, lodged), Task)["businessStatus"]["coding"][0]["code"] == "appeal_lodged"

    complete = [
        {"op": "replace", "path": "/status", "value": "completed"},
        {"op": "add", "path": "/statusReason", "value": {"coding": [codes.coding("closure-reason", "advice_given")]}},
    ]
    # As on the pages: no outcome recorded, and no reason for none, is refused.
    assert "at least one outcome" in outcome(system.patch(path, complete), 409)[0]["diagnostics"]
    no_outcome = {"url": extension_url(NO_OUTCOME_EXTENSION), "valueCode": "no_contact"}
    done = resource(system.patch(path, [*complete, {"op": "add", "path": "/extension", "value": [no_outcome]}]), Task)
    assert done["status"] == "completed"
    sent_referral.case.refresh_from_db()
    assert sent_referral.case.closure_reason == "advice_given"
    assert sent_referral.case.outcome_closure.no_outcome_reason == "no_contact"
    # The referrer is told the case closed, as when it is closed on the page.
    assert sent_referral.referrer.messages.filter(kind="outcome_report").exists()
    steps = list(sent_referral.status_changes.values_list("to_status", flat=True))
    assert steps[-3:] == ["accepted", "in_progress", "closed"]


def test_declining_needs_a_coded_reason(advice_client, sent_referral, fhir):
    system = fhir(advice_client)
    path = f"/fhir/Task/{sent_referral.pk}"
    issues = outcome(system.patch(path, [{"op": "replace", "path": "/status", "value": "rejected"}]), 422)
    assert issues[0]["expression"] == ["Task.statusReason"]
    rejected = resource(
        system.patch(
            path,
            [
                {"op": "replace", "path": "/status", "value": "rejected"},
                {
                    "op": "add",
                    "path": "/statusReason",
                    "value": {"coding": [codes.coding("decline-reason", "out_of_area")], "text": "Lives in Wales."},
                },
            ],
        ),
        Task,
    )
    assert rejected["status"] == "rejected"
    assert rejected["statusReason"]["text"] == "Patient lives outside our area. Lives in Wales."


def test_a_move_the_pages_refuse_is_refused_with_409(advice_client, health_client, sent_referral, fhir):
    path = f"/fhir/Task/{sent_referral.pk}"
    to_completed = [{"op": "replace", "path": "/status", "value": "completed"}]
    assert outcome(fhir(advice_client).patch(path, to_completed), 409)[0]["code"] == "business-rule"
    # The referrer's side may not accept its own referral: its client holds no cases:write.
    accept = [{"op": "replace", "path": "/status", "value": "accepted"}]
    assert outcome(fhir(health_client).patch(path, accept), 403)[0]["expression"] == ["Task.status"]
    # Nor may the advice side cancel it for the referrer: its client holds no referrals:write.
    cancel = [
        {"op": "replace", "path": "/status", "value": "cancelled"},
        {"op": "add", "path": "/statusReason", "value": {"text": "Not ours to cancel"}},
    ]
    assert outcome(fhir(advice_client).patch(path, cancel), 403)
    sent_referral.refresh_from_db()
    assert sent_referral.status == ReferralStatus.SUBMITTED


def test_only_the_status_can_change(advice_client, sent_referral, fhir):
    path = f"/fhir/Task/{sent_referral.pk}"
    issues = outcome(fhir(advice_client).patch(path, [{"op": "replace", "path": "/priority", "value": "stat"}]), 422)
    assert issues[0]["expression"] == ["Task.priority"]
    assert outcome(fhir(advice_client).patch(path, [{"op": "remove", "path": "/nothing"}]), 400)


def test_the_referrer_cancels_with_a_reason(health_client, sent_referral, fhir):
    path = f"/fhir/Task/{sent_referral.pk}"
    system = fhir(health_client)
    assert outcome(system.patch(path, [{"op": "replace", "path": "/status", "value": "cancelled"}]), 409)
    cancelled = resource(
        system.patch(
            path,
            [
                {"op": "replace", "path": "/status", "value": "cancelled"},
                {"op": "add", "path": "/statusReason", "value": {"text": "Patient moved away"}},
            ],
        ),
        Task,
    )
    assert cancelled["statusReason"]["text"] == "Patient moved away"


@pytest.mark.parametrize("scope_3", [True, False])
def test_a_closed_task_gives_its_outcomes_only_where_consent_scope_3_allows(
    scope_3, advice_client, advisor_user, health_client, health_org, partnership, fhir
):
    referral = factories.ReferralFactory(
        referrer=health_client.client.service_user,
        referring_organisation=health_org,
        partnership=partnership,
        consent__outcome_feedback=scope_3,
    )
    advice = fhir(advice_client)
    path = f"/fhir/Task/{referral.pk}"
    assert advice.patch(path, accept_with(advisor_user)).status_code == 200
    assert advice.patch(path, [{"op": "replace", "path": "/status", "value": "in-progress"}]).status_code == 200
    referral.refresh_from_db()
    factories.FinancialOutcomeFactory(issue=referral.case.issues.get())
    assert advice.patch(path, [{"op": "replace", "path": "/status", "value": "completed"}]).status_code == 200
    task = resource(fhir(health_client).get(path), Task)
    assert task["status"] == "completed"
    if scope_3:
        assert task["output"] == [
            {
                "type": {
                    "coding": [codes.coding("outcome-kind", "financial-new_or_increased_award")],
                    "text": "New or increased benefit award (Personal Independence Payment (PIP)), a year, confirmed",
                },
                "valueMoney": {"value": 5200.0, "currency": "GBP"},
            }
        ]
    else:
        assert "output" not in task


def test_too_many_requests_is_an_operation_outcome_with_retry_after(health_client, fhir, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"client": "2/minute"}}
    system = fhir(health_client)
    assert [system.get("/fhir/Task").status_code for _ in range(2)] == [200, 200]
    refused = system.get("/fhir/Task")
    assert outcome(refused, 429)[0]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60


def test_a_failure_on_the_server_is_an_operation_outcome_too(health_client, sent_referral, fhir, monkeypatch):
    from api.fhir import views

    def broken(referral):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.mapping, "service_request_resource", broken)
    issues = outcome(fhir(health_client).get(f"/fhir/ServiceRequest/{sent_referral.pk}"), 500)
    assert issues[0]["code"] == "exception"
    assert "a bug" not in issues[0]["diagnostics"]


def test_the_fhir_version_in_accept_is_understood_and_xml_is_not_served(client):
    versioned = client.get("/fhir/metadata", headers={"Accept": "application/fhir+json; fhirVersion=4.0"})
    assert resource(versioned, CapabilityStatement)["fhirVersion"] == "4.0.1"
    plain = client.get("/fhir/metadata", headers={"Accept": "application/json"})
    assert plain.status_code == 200 and plain["Content-Type"].startswith("application/json")
    assert outcome(client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"}), 406)


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "replace", "path": "/status", "value": ["accepted"]}],
        [
            {"op": "replace", "path": "/status", "value": "in-progress"},
            {"op": "add", "path": "/executionPeriod", "value": {"start": "2026-02-30T10:00:00Z"}},
        ],
        [
            {"op": "replace", "path": "/status", "value": "in-progress"},
            {"op": "add", "path": "/executionPeriod", "value": {"start": 5}},
        ],
        [
            {"op": "replace", "path": "/status", "value": "rejected"},
            {"op": "add", "path": "/statusReason", "value": "no"},
        ],
        [
            {"op": "replace", "path": "/status", "value": "rejected"},
            {"op": "add", "path": "/statusReason", "value": {"coding": ["x"]}},
        ],
    ],
)
def test_a_malformed_task_is_a_400_naming_the_problem_never_a_500(advice_client, sent_referral, fhir, operations):
    response = fhir(advice_client).patch(f"/fhir/Task/{sent_referral.pk}", operations)
    issues = outcome(response, 400)
    assert issues and all(issue["code"] == "structure" for issue in issues)
    sent_referral.refresh_from_db()
    assert sent_referral.status == ReferralStatus.SUBMITTED
