"""Organization: the organisations a client may see (its own, its partnerships', those on the referrals it may
see) are served, so Task.owner, Task.requester and ServiceRequest.performer resolve; found by ODS code; any
other organisation is 404, as one that does not exist."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization

from api.fhir import codes
from tests import factories
from tests.api.conftest import register, token_for
from tests.api.fhir.test_views import Fhir, outcome, resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(client):
    return lambda new_client: Fhir(client, token_for(new_client))


@pytest.fixture
def coded(health_org, advice_org):
    health_org.ods_code = "B86012"
    health_org.save()
    advice_org.ods_code = "XCA01"
    advice_org.save()


def test_the_references_a_client_reads_resolve_to_organizations(
    coded, fhir, health_client, advice_client, sent_referral
):
    for new_client in (health_client, advice_client):
        system = fhir(new_client)
        task = system.get(f"/fhir/Task/{sent_referral.pk}").json()
        request = system.get(f"/fhir/ServiceRequest/{sent_referral.pk}").json()
        for reference in (task["owner"], task["requester"], request["performer"][0]):
            found = resource(system.get(f"/fhir/{reference['reference']}"), Organization)
            assert found["name"] == reference["display"]
            assert reference["identifier"] in found["identifier"]
    advice = fhir(health_client).get(f"/fhir/Organization/{sent_referral.advice_organisation_id}").json()
    assert advice["identifier"][0] == {"system": codes.ODS_CODE, "value": "XCA01"}
    assert advice["type"][0]["text"] == "Advice service"


def test_an_organisation_the_client_has_nothing_to_do_with_is_not_found(
    coded, fhir, health_client, advice_client, other_health_org
):
    stranger = factories.OrganisationFactory(name="Far Away Practice", ods_code="Y99999")
    for new_client in (health_client, advice_client):
        assert outcome(fhir(new_client).get(f"/fhir/Organization/{stranger.pk}"), 404)[0]["code"] == "not-found"
    assert outcome(fhir(health_client).get("/fhir/Organization/nonsense"), 404)
    # Another organisation's client sees its own, not this partnership's.
    other = fhir(register(other_health_org))
    assert resource(other.get(f"/fhir/Organization/{other_health_org.pk}"), Organization)
    assert outcome(other.get(f"/fhir/Organization/{health_client.client.organisation_id}"), 404)


def test_a_search_by_ods_code_finds_only_what_the_client_may_see(coded, fhir, advice_client, health_org):
    factories.OrganisationFactory(name="Far Away Practice", ods_code="Y99999")
    system = fhir(advice_client)
    for identifier in (f"{codes.ODS_CODE}|B86012", "b86012"):
        found = resource(system.get("/fhir/Organization", {"identifier": identifier}), Bundle)
        assert [entry["resource"]["id"] for entry in found["entry"]] == [str(health_org.pk)]
        Organization.model_validate(found["entry"][0]["resource"])
    assert resource(system.get("/fhir/Organization", {"identifier": "Y99999"}), Bundle)["total"] == 0
    everything = resource(system.get("/fhir/Organization"), Bundle)
    assert {e["resource"]["name"] for e in everything["entry"]} == {
        health_org.name,
        advice_client.client.organisation.name,
    }
    issues = outcome(system.get("/fhir/Organization", {"identifier": "http://example.org/ids|B86012"}), 400)
    assert issues[0]["expression"] == ["identifier"]


def test_reading_an_organization_needs_a_token(client, health_org):
    assert outcome(client.get(f"/fhir/Organization/{health_org.pk}"), 401)


@pytest.mark.parametrize("odd", ["%C2%B2", "%D9%A1", "99999999999999999999", "-1", "1.0"])
def test_an_id_that_is_not_one_hjp_writes_is_not_found_never_a_500(fhir, health_client, sent_referral, odd):
    """Superscript and Arabic-Indic digits pass str.isdigit() and fail int(); a 20-digit number overflows the
    column. Each is a 404 OperationOutcome (or an empty search), as for an id that does not exist."""
    system = fhir(health_client)
    for kind in ("Task", "ServiceRequest", "Consent", "Patient", "Organization", "Subscription"):
        outcome(system.get(f"/fhir/{kind}/{odd}"), 404)
    hjp_id = codes.identifier_system("organisation")
    assert resource(system.get(f"/fhir/Organization?identifier={hjp_id}|{odd}"), Bundle)["total"] == 0
    issues = outcome(system.get(f"/fhir/Task?focus=ServiceRequest/{odd}"), 400)
    assert "ServiceRequest/<id>" in issues[0]["diagnostics"]
