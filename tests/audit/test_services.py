"""The audit log is read by admins, who see no patient data: what a user searched for stays out of it."""

import pytest
from django.urls import reverse

from hjp.audit.models import AuditEvent


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["referrals:list", "casework:caseload"])
def test_a_search_for_a_patient_is_not_written_to_the_audit_log(as_user, referral, advisor_user, url_name):
    user = referral.referrer if url_name == "referrals:list" else advisor_user
    client = as_user(user)
    response = client.post(reverse(url_name), {"q": "Smithson 943 476 5919"}, follow=True)
    assert response.status_code == 200
    event = AuditEvent.objects.filter(actor=user, action=AuditEvent.Action.LIST).latest("id")
    assert event.path == reverse(url_name)
    assert not AuditEvent.objects.filter(path__icontains="Smithson").exists()
    assert not AuditEvent.objects.filter(path__icontains="943").exists()
