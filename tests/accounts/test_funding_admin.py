"""Fundings and in-kind support are kept in the admin, on the partnership's page and on their own."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from hjp.accounts.models import InKindSupport
from tests import factories

pytestmark = pytest.mark.django_db


def test_in_kind_support_is_added_in_the_admin_beside_the_funding(as_user, partnership):
    factories.FundingFactory(partnership=partnership, funder="Community Fund")
    admin = as_user(factories.UserFactory(is_staff=True, is_superuser=True))
    page = admin.get(reverse("admin:accounts_partnership_change", args=[partnership.pk])).content.decode()
    assert "Community Fund" in page and 'name="in_kind_support-TOTAL_FORMS"' in page

    form = {
        "partnership": partnership.pk,
        "kind": "equipment",
        "description": "A laptop for the clinic",
        "provider": "Riverside Surgery",
        "estimated_value": "800.00",
        "period_start": "2026-04-01",
        "period_end": "2026-03-31",
    }
    refused = admin.post(reverse("admin:accounts_inkindsupport_add"), form)
    assert refused.status_code == 200 and not InKindSupport.objects.exists()  # ends before it starts
    admin.post(reverse("admin:accounts_inkindsupport_add"), form | {"period_end": "2027-03-31"})
    support = InKindSupport.objects.get()
    assert (support.kind, support.estimated_value, support.period_end) == (
        "equipment",
        Decimal("800.00"),
        date(2027, 3, 31),
    )
    assert str(support) == "Equipment from Riverside Surgery: £800.00 (1 Apr 2026 to 31 Mar 2027)"
