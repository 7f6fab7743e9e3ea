"""'Add financial outcome' sent twice at the same moment, over HTTP against the live server: the money is
recorded once, and the managers' dashboard counts it once."""

from decimal import Decimal

import pytest
from django.urls import reverse

from outcomes import services
from outcomes.models import FinancialOutcome
from tests.support.auth import Client
from tests.support.forms import once
from tests.support.live import BrowserSession, hidden_inputs, send_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_financial_outcome_sent_twice_at_once_is_recorded_and_counted_once(
    live_server, open_case, advisor_user, manager_user
):
    browser = BrowserSession(live_server.url, advisor_user)
    page = browser.get(reverse("outcomes:case_outcomes", args=[open_case.pk]))
    data = {
        **once(
            {
                "financial-issue": open_case.issues.get().pk,
                "financial-kind": "grant",
                "financial-one_off_amount": "250.00",
                "financial-confirmed": "on",
            },
            prefix="financial",
        ),
        **hidden_inputs(page.text),
    }  # the CSRF token, and the form's own one-time token
    url = reverse("outcomes:financial_add", args=[open_case.pk])

    first, second = send_together(lambda: browser.post(url, data), lambda: browser.post(url, data), hold=advisor_user)

    outcomes_page = reverse("outcomes:case_outcomes", args=[open_case.pk])
    assert [(r.status, r.location) for r in (first, second)] == [(302, outcomes_page), (302, outcomes_page)]
    assert FinancialOutcome.objects.count() == 1
    open_case.refresh_from_db()
    services.case_close_with_outcomes(
        case=open_case, actor=advisor_user, version=open_case.version, closure_reason="work_completed"
    )
    manager = Client()
    manager.force_login(manager_user)
    money = manager.get(reverse("outcomes:dashboard")).context["summary"].money
    assert money.confirmed.total == Decimal("250.00") and money.confirmed.cases == 1
