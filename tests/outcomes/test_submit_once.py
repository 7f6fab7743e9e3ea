"""Every outcome form sent twice (a double click, a resent page): the second POST records nothing more."""

import pytest
from django.urls import reverse

from outcomes.models import DecisionOutcome, FinancialOutcome, NonFinancialOutcome, WellbeingScore
from tests.support.forms import once

pytestmark = pytest.mark.django_db

FORMS = {
    "financial": (
        "outcomes:financial_add",
        {"kind": "grant", "one_off_amount": "250.00", "confirmed": "on"},
        FinancialOutcome,
    ),
    "decision": ("outcomes:decision_add", {"stage": "initial_claim", "result": "awarded"}, DecisionOutcome),
    "non_financial": ("outcomes:non_financial_add", {"kind": "eviction_prevented", "note": ""}, NonFinancialOutcome),
}


@pytest.mark.parametrize("form", FORMS)
def test_an_outcome_form_sent_twice_records_once(form, client, open_case, advisor_user):
    url_name, fields, model = FORMS[form]
    client.force_login(advisor_user)
    posted = once(
        {f"{form}-issue": open_case.issues.get().pk, **{f"{form}-{k}": v for k, v in fields.items()}}, prefix=form
    )
    url = reverse(url_name, args=[open_case.pk])

    first, second = client.post(url, posted), client.post(url, posted)

    outcomes_page = reverse("outcomes:case_outcomes", args=[open_case.pk])
    assert (first.status_code, first["Location"]) == (302, outcomes_page)
    assert (second.status_code, second["Location"]) == (302, outcomes_page)
    assert model.objects.count() == 1
    assert "This form was already sent" in client.get(outcomes_page).content.decode()


def test_a_wellbeing_score_sent_twice_is_saved_once_without_a_false_stale_warning(client, open_case, advisor_user):
    client.force_login(advisor_user)
    posted = once({"start-version": open_case.version, **{f"start-item_{i}": 3 for i in range(1, 8)}}, prefix="start")
    url = reverse("outcomes:wellbeing_record", args=[open_case.pk, "start"])

    first, second = client.post(url, posted), client.post(url, posted)

    assert first.status_code == 302 and second.status_code == 302
    assert WellbeingScore.objects.get().total == 21
    assert "Someone else changed this case" not in client.get(second["Location"]).content.decode()
