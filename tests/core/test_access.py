"""Access beyond a GET by each role (that table is tests/core/test_access_matrix.py): POSTs from another
organisation change nothing, a forbidden referral looks missing, aggregates name no patient."""

import re

import pytest
from django.urls import reverse

from hjp.audit.models import AuditEvent
from tests import factories

REFERRAL_URLS = {
    "referrals:detail",
    "referrals:edit",
    "referrals:cancel",
    "referrals:entered_in_error",
    "referrals:withdraw_consent",
}


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(REFERRAL_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_referrer_from_another_organisation_gets_404_on_every_referral_url(client, referral, url_name, method):
    client.force_login(factories.referrer(factories.OrganisationFactory()))
    response = getattr(client, method)(
        reverse(url_name, args=[referral.pk]), {"reason": "x", "note": "x", "confirm": "on"}
    )
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
    assert client.get(reverse("outcomes:dashboard")).context["summary"].totals.received == 1


@pytest.mark.django_db
def test_the_admin_log_is_read_only(client, referral):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(referral.referrer)
    client.get(reverse("referrals:detail", args=[referral.pk]))
    client.force_login(admin)
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_id=str(referral.pk))
    log = client.get(reverse("admin:audit_auditevent_changelist"))
    assert log.status_code == 200 and str(referral.referrer) in log.content.decode()
    assert f"/referrals/{referral.pk}/" in log.content.decode()  # the page that was viewed
    assert reverse("admin:audit_auditevent_add") not in log.content.decode()  # no "Add" button
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    entry = client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    assert entry.status_code == 200 and 'name="_save"' not in entry.content.decode()  # shown, no Save button
    client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"summary": "tampered"})
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.summary != "tampered" and AuditEvent.objects.filter(pk=event.pk).exists()
