"""Access beyond a GET by each role (that table is tests/core/test_access_matrix.py): POSTs from another
organisation change nothing, a forbidden referral looks missing, aggregates name no patient."""

import re

import pytest
from django.urls import reverse

from tests import factories

REFERRAL_URLS = {"referrals:detail", "referrals:edit", "referrals:cancel", "referrals:entered_in_error",
                 "referrals:withdraw_consent"}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(REFERRAL_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_referrer_from_another_organisation_gets_404_on_every_referral_url(client, referral, url_name, method):
    client.force_login(factories.referrer(factories.OrganisationFactory()))
    response = getattr(client, method)(reverse(url_name, args=[referral.pk]), {"reason": "x", "note": "x", "confirm": "on"})
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "submitted" and referral.consent.withdrawn_at is None


@pytest.mark.django_db
def test_a_missing_referral_and_a_forbidden_one_look_the_same(client, referral):
    client.force_login(factories.referrer(factories.OrganisationFactory()))
    forbidden = client.get(reverse("referrals:detail", args=[referral.pk]))
    missing = client.get(reverse("referrals:detail", args=[referral.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    strip = lambda html: re.sub(r'(nonce|value)="[^"]*"', "", html.decode())  # noqa: E731
    assert strip(forbidden.content) == strip(missing.content)


@pytest.mark.django_db
def test_managers_and_funders_see_aggregates_but_no_patient_details(client, referral, manager_user, funder_user):
    for user in (manager_user, funder_user):
        client.force_login(user)
        for url_name in ("outcomes:dashboard", "outcomes:funder_report"):
            html = client.get(reverse(url_name)).content.decode()
            assert referral.patient.family_name not in html and referral.patient.postcode not in html
    client.force_login(manager_user)
    assert client.get(reverse("outcomes:dashboard")).context["summary"]["totals"]["received"] == 1


@pytest.mark.django_db
def test_a_manager_cannot_read_another_partnerships_dashboard(client, manager_user):
    elsewhere = factories.PartnershipFactory()
    client.force_login(manager_user)
    assert client.get(reverse("outcomes:dashboard"), {"partnership": elsewhere.pk}).status_code == 404


@pytest.mark.django_db
def test_the_admin_log_is_read_only(client, referral):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(referral.referrer)
    client.get(reverse("referrals:detail", args=[referral.pk]))
    client.force_login(admin)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
