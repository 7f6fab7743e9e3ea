"""Who referred: a Bundle's ServiceRequest.requester (a PractitionerRole and Practitioner in the Bundle, contained
in the ServiceRequest, or a reference's display and identifier) is kept on the referral (name, role, profession,
professional registration) and given back as the ServiceRequest's requester; a bad one is an OperationOutcome
naming where, and nothing is saved."""

import copy

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest

from api.fhir import codes
from referrals.models import Referral
from tests.api.conftest import token_for
from tests.api.fhir.bundles import SERVICE_REQUEST, example_bundle
from tests.api.fhir.test_views import Fhir, outcome, resource

pytestmark = pytest.mark.django_db
GMC = "https://fhir.hl7.org.uk/Id/gmc-number"
NMC = "https://fhir.hl7.org.uk/Id/nmc-number"
ROLE_URL, PERSON_URL = "urn:uuid:9d1c0b6e-0000-4000-8000-000000000001", "urn:uuid:9d1c0b6e-0000-4000-8000-000000000002"


@pytest.fixture
def system(client, health_client, partnership):
    return Fhir(client, token_for(health_client))


def practitioner(name="Amira Shah", identifier=None) -> dict:
    return {
        "resourceType": "Practitioner",
        "identifier": [identifier or {"system": GMC, "value": "7012345"}],
        "name": [{"prefix": ["Dr"], "given": ["Amira"], "family": name.split()[-1]}],
    }


def role(practitioner_reference: str, profession: str = "gp") -> dict:
    return {
        "resourceType": "PractitionerRole",
        "practitioner": {"reference": practitioner_reference},
        "code": [
            {
                "coding": [{"system": codes.system_url("referrer-profession"), "code": profession}],
                "text": "GP partner",
            }
        ],
    }


def with_entries(requester: dict, *resources: tuple[str, dict], contained=None) -> dict:
    bundle = copy.deepcopy(example_bundle())
    request = bundle["entry"][SERVICE_REQUEST]["resource"]
    request["requester"] = requester
    if contained:
        request["contained"] = contained
    for full_url, item in resources:
        bundle["entry"].append(
            {"fullUrl": full_url, "resource": item, "request": {"method": "POST", "url": item["resourceType"]}}
        )
    return bundle


def read_requester(system, referral) -> dict:
    request = resource(system.get(f"/fhir/ServiceRequest/{referral.pk}"), ServiceRequest)
    assert request["requester"] == {"reference": "#requester"}
    [contained] = request["contained"]
    return contained


def test_a_practitioner_role_and_practitioner_in_the_bundle_are_kept_and_read_back(system):
    bundle = with_entries(
        {"reference": ROLE_URL}, (ROLE_URL, role(PERSON_URL)), (PERSON_URL, practitioner("Amira Shah"))
    )
    answer = resource(system.post("/fhir/", bundle), Bundle)
    referral = Referral.objects.get()
    assert [e["response"]["status"] for e in answer["entry"]] == ["201 Created"] * 4 + ["200 OK"] * 2
    assert f"ServiceRequest/{referral.pk}" in answer["entry"][4]["response"]["outcome"]["issue"][0]["diagnostics"]
    named = referral.referring_practitioner
    assert (named.name, named.role, named.identifier_system, named.identifier) == (
        "Dr Amira Shah",
        "GP partner",
        GMC,
        "7012345",
    )
    assert referral.referrer_profession == "gp"
    requester = read_requester(system, referral)
    assert requester["practitioner"] == {"display": "Dr Amira Shah", "identifier": {"system": GMC, "value": "7012345"}}
    assert requester["code"][0]["text"] == "GP partner"
    assert requester["code"][0]["coding"][0]["code"] == "gp"
    assert requester["organization"]["reference"] == f"Organization/{referral.referring_organisation_id}"


def test_the_requester_read_back_can_be_sent_again_contained(system):
    contained = {
        "resourceType": "PractitionerRole",
        "id": "requester",
        "practitioner": {"display": "Sister Jo Brennan", "identifier": {"system": NMC, "value": "99a1234b"}},
        "code": [{"coding": [{"system": codes.system_url("referrer-profession"), "code": "nurse"}]}],
    }
    resource(system.post("/fhir/", with_entries({"reference": "#requester"}, contained=[contained])), Bundle)
    referral = Referral.objects.get()
    named = referral.referring_practitioner
    assert (named.name, named.identifier, named.role, referral.referrer_profession) == (
        "Sister Jo Brennan",
        "99A1234B",
        "",
        "nurse",
    )
    assert read_requester(system, referral)["code"][0]["text"] == "Nurse"


def test_a_reference_with_a_display_alone_is_kept(system, health_client):
    resource(
        system.post("/fhir/", with_entries({"reference": "Practitioner/G8512345", "display": "Dr Ola Bello"})), Bundle
    )
    referral = Referral.objects.get()
    assert (referral.referring_practitioner.name, referral.referring_practitioner.identifier) == ("Dr Ola Bello", "")
    assert referral.referrer == health_client.client.service_user  # the system account made it
    assert read_requester(system, referral)["practitioner"] == {"display": "Dr Ola Bello"}


def test_without_a_requester_the_system_account_is_who_referred(system, health_client):
    resource(system.post("/fhir/", example_bundle()), Bundle)
    referral = Referral.objects.get()
    assert not hasattr(referral, "referring_practitioner")
    assert read_requester(system, referral)["practitioner"]["display"] == f"API client: {health_client.client.name}"


@pytest.mark.parametrize(
    ("bundle", "status", "where", "says"),
    [
        (
            with_entries(
                {"reference": ROLE_URL},
                (ROLE_URL, role(PERSON_URL)),
                (PERSON_URL, practitioner(identifier={"system": GMC, "value": "12345"})),
            ),
            422,
            "Bundle.entry[5].resource.identifier[0]",
            "not a GMC number",
        ),
        (with_entries({"reference": "#someone"}), 422, "Bundle.entry[2].resource.requester", "contains"),
        (with_entries({"reference": "Practitioner/1"}), 422, "Bundle.entry[2].resource.requester.display", "name"),
        (
            with_entries(
                {"reference": ROLE_URL}, (ROLE_URL, role(PERSON_URL, profession="wizard")), (PERSON_URL, practitioner())
            ),
            422,
            "Bundle.entry[4].resource.code[0].coding[0]",
            "wizard",
        ),
        (
            with_entries({"display": "Dr Ola Bello"}, (PERSON_URL, practitioner())),
            422,
            "Bundle.entry[4]",
            "not the ServiceRequest's requester",
        ),
        (
            with_entries({"display": "Dr Ola Bello", "identifier": {"value": "7012345"}}),
            422,
            "Bundle.entry[2].resource.requester.identifier",
            "system",
        ),
    ],
    ids=["bad-gmc", "not-contained", "no-name", "unknown-profession", "stray-practitioner", "identifier-no-system"],
)
def test_a_bad_requester_is_named_and_nothing_is_saved(system, bundle, status, where, says):
    issues = outcome(system.post("/fhir/", bundle), status)
    assert any(where in issue.get("expression", []) and says in issue["diagnostics"] for issue in issues), issues
    assert not Referral.objects.exists()
