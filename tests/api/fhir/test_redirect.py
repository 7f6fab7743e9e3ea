"""Triage's redirect through FHIR (`POST /fhir/Task/<id>/$redirect`): the page's form and service, so the same
rules (a provider of the service's directory, a note, the consent to share), the same timeline, handover and audit
entries; what the form refuses is a 422 naming the parameter, what the service refuses a 409."""

import pytest
from django.utils import timezone
from fhir.resources.R4B.task import Task

from casework.services.triage import referral_accept
from hjp.audit.models import AuditEvent
from referrals.models import Handover, ReferralStatus
from tests import factories
from tests.api.conftest import register, token_for
from tests.api.fhir.test_views import Fhir, outcome, resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner_org(db):
    return factories.AdviceOrganisationFactory(name="Northside Law Centre")


@pytest.fixture
def provider(advice_org, partner_org):
    return factories.AdviceProviderFactory(
        advice_organisation=advice_org, name="Northside Law Centre", partner_organisation=partner_org
    )


@pytest.fixture
def system(client, advice_client):
    return Fhir(client, token_for(advice_client))


def redirect_parameters(provider_id, note="They take housing possession cases.", share=True) -> dict:
    parameters = [{"name": "provider", "valueString": str(provider_id)}, {"name": "note", "valueString": note}]
    if share:
        parameters.append(
            {
                "name": "share",
                "part": [
                    {"name": "given-by", "valueCode": "patient"},
                    {"name": "method", "valueCode": "phone"},
                    {"name": "said-at", "valueDateTime": timezone.now().isoformat()},
                ],
            }
        )
    return {"resourceType": "Parameters", "parameter": parameters}


def test_a_redirect_with_consent_hands_the_referral_over_as_the_page_does(
    system, advice_client, sent_referral, provider, partner_org
):
    task = resource(system.post(f"/fhir/Task/{sent_referral.pk}/$redirect", redirect_parameters(provider.pk)), Task)
    assert task["status"] == "rejected"
    assert task["statusReason"]["text"] == "Passed to Northside Law Centre. They take housing possession cases."
    sent_referral.refresh_from_db()
    assert sent_referral.status == ReferralStatus.REDIRECTED
    handover = Handover.objects.get(referral=sent_referral)
    assert (handover.to_organisation, handover.made_by) == (partner_org, advice_client.client.service_user)
    assert (handover.consent_given_by, handover.consent_method) == ("patient", "phone")
    assert AuditEvent.objects.filter(actor=advice_client.client.service_user, summary="redirected at triage").exists()


def test_without_consent_to_share_it_is_redirected_and_not_handed_over(system, sent_referral, provider):
    resource(
        system.post(f"/fhir/Task/{sent_referral.pk}/$redirect", redirect_parameters(provider.pk, share=False)), Task
    )
    assert not Handover.objects.exists()


def test_what_the_form_refuses_is_named(system, sent_referral, provider, other_health_org):
    elsewhere = factories.AdviceProviderFactory(advice_organisation=factories.AdviceOrganisationFactory())
    cases = [
        (
            {"resourceType": "Parameters", "parameter": [{"name": "comment", "valueString": "?"}]},
            {"Parameters.parameter[provider]", "Parameters.parameter[note]"},
        ),
        (redirect_parameters(elsewhere.pk), {"Parameters.parameter[provider]"}),
    ]
    incomplete = redirect_parameters(provider.pk)
    incomplete["parameter"][2]["part"] = [{"name": "given-by", "valueCode": "patient"}]
    cases.append(
        (incomplete, {"Parameters.parameter[share].part[method]", "Parameters.parameter[share].part[said-at]"})
    )
    for parameters, where in cases:
        issues = outcome(system.post(f"/fhir/Task/{sent_referral.pk}/$redirect", parameters), 422)
        assert {issue["expression"][0] for issue in issues} == where
    assert outcome(system.post(f"/fhir/Task/{sent_referral.pk}/$redirect", {"resourceType": "Task"}), 400)
    sent_referral.refresh_from_db()
    assert sent_referral.status == ReferralStatus.SUBMITTED and not Handover.objects.exists()


def test_an_accepted_referral_is_not_redirected(system, sent_referral, provider):
    referral_accept(referral=sent_referral, actor=factories.advisor(sent_referral.advice_organisation))
    issues = outcome(system.post(f"/fhir/Task/{sent_referral.pk}/$redirect", redirect_parameters(provider.pk)), 409)
    assert "redirected" in issues[0]["diagnostics"]


def test_only_the_advice_service_with_cases_write_may_redirect(client, system, health_client, sent_referral, provider):
    body = redirect_parameters(provider.pk)
    assert outcome(Fhir(client, token_for(health_client)).post(f"/fhir/Task/{sent_referral.pk}/$redirect", body), 403)
    stranger = Fhir(client, token_for(register(factories.AdviceOrganisationFactory())))
    assert outcome(stranger.post(f"/fhir/Task/{sent_referral.pk}/$redirect", body), 404)
    assert outcome(system.post("/fhir/Task/999999/$redirect", body), 404)
    assert not Handover.objects.exists()
