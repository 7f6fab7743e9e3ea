"""A referral handed over to a provider outside hjp: a signed link the provider opens once, without signing in,
until it expires; refused after its one use, after expiry, once replaced and once consent is withdrawn. The
advisor records the outcome the provider reports."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from referrals import services as referral_services
from referrals.models import Handover, Referral
from tests import factories
from tests.support.forms import once

pytestmark = pytest.mark.django_db


@pytest.fixture
def handover(advisor_user, referral, advice_org) -> Handover:
    provider = factories.AdviceProviderFactory(advice_organisation=advice_org, name="Riverside Law Centre")
    share = services.ShareConsent(given_by="patient", method="in_person", said_at=timezone.now())
    return services.referral_redirect(
        referral=referral, actor=advisor_user, provider=provider, note="Housing.", share=share
    ).handover


def _link(client, advisor, handover) -> str:
    client.force_login(advisor)
    response = client.post(reverse("casework:handover_link", args=[handover.pk]))
    assert response.status_code == 200
    client.logout()
    return response.context["link"].removeprefix("http://testserver")


def test_the_provider_downloads_the_summary_once_without_signing_in(client, advisor_user, handover, referral):
    link = _link(client, advisor_user, handover)
    page = client.get(link)
    # The page itself names nobody: a link forwarded by mistake shows nothing until it is used.
    assert page.status_code == 200 and referral.patient.family_name not in page.content.decode()
    download = client.post(page.context["request"].path + "download/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="referral-{referral.reference}.txt"'
    text = download.content.decode()
    assert referral.patient.family_name in text and "Riverside Law Centre" in text and "in person" in text
    audit = AuditEvent.objects.get(object_type="referrals.handover", summary="summary downloaded by the provider")
    assert audit.actor is None
    again = client.post(page.context["request"].path + "download/")
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert client.get(link).status_code == 410


def test_an_expired_link_is_refused(client, advisor_user, handover):
    link = _link(client, advisor_user, handover)
    Handover.objects.filter(pk=handover.pk).update(link_expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in client.get(link).content.decode()
    assert client.post(link + "download/").status_code == 410


def test_a_new_link_replaces_the_old_one(client, advisor_user, handover):
    first = _link(client, advisor_user, handover)
    second = _link(client, advisor_user, handover)
    assert client.get(first).status_code == 404  # no longer names anything
    assert client.post(first + "download/").status_code == 410
    assert client.post(second + "download/").status_code == 200


def test_a_link_is_refused_once_consent_is_withdrawn(client, advisor_user, referrer_user, handover, referral):
    link = _link(client, advisor_user, handover)
    name = referral.patient.family_name
    referral_services.consent_withdraw(referral=Referral.objects.get(pk=referral.pk), actor=referrer_user)
    assert client.post(link + "download/").status_code == 410
    assert client.get(link).status_code == 404  # the withdrawal took the link's key away
    handover.refresh_from_db()
    assert handover.state == Handover.State.STOPPED
    client.force_login(advisor_user)
    assert name not in client.get(reverse("casework:handover", args=[handover.pk])).content.decode()


def test_a_tampered_link_is_missing(client, advisor_user, handover):
    link = _link(client, advisor_user, handover)
    assert client.get(link.replace("/shared/", "/shared/x")).status_code == 404
    assert client.post(link.replace("/shared/", "/shared/x") + "download/").status_code == 410


def test_the_advisor_records_the_outcome_the_provider_reports(
    client, advisor_user, referrer_user, handover, referral, django_capture_on_commit_callbacks
):
    client.force_login(advisor_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("casework:handover_close", args=[handover.pk]),
            once({"outcome": "advice_given", "note": "They advised on the tenancy."}),
        )
    assert response.status_code == 302
    handover.refresh_from_db()
    assert (handover.state, handover.outcome, handover.outcome_by) == ("closed", "advice_given", advisor_user)
    html = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Closed by Riverside Law Centre" in html and "Outcome: Advice given" in html
    # No link once it is closed.
    with pytest.raises(DomainError):
        referral_services.handover_link_issue(handover=handover, actor=advisor_user)


def test_only_the_service_that_handed_it_over_makes_a_link(client, handover, other_advisor):
    with pytest.raises(DomainError):
        referral_services.handover_link_issue(handover=handover, actor=other_advisor)
    client.force_login(other_advisor)
    assert client.post(reverse("casework:handover_link", args=[handover.pk])).status_code == 404
