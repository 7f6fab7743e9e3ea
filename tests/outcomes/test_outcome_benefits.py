"""The money outcome offers only benefits; the outcome report and the case's outcome list name the benefit."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from hjp.notifications.models import Message, MessageKind
from outcomes import services
from outcomes.forms import FinancialOutcomeForm
from outcomes.models import FinancialOutcome
from referrals.models import ProblemSubCategory

pytestmark = pytest.mark.django_db


def test_the_money_form_offers_only_benefits(open_case):
    labels = [label for _, label in FinancialOutcomeForm(issues=open_case.issues.all()).fields["benefit"].choices]
    assert "Personal Independence Payment (PIP)" in labels and "Universal Credit" in labels
    for not_a_benefit in ("Rent arrears", "Homelessness", "Dismissal"):
        assert not_a_benefit not in labels


def test_the_outcomes_page_offers_no_housing_or_employment_problem_as_a_benefit(client, open_case, advisor_user):
    client.force_login(advisor_user)
    page = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).content.decode()
    assert "Personal Independence Payment (PIP)" in page
    assert "Rent arrears" not in page and "Homelessness" not in page and "Dismissal" not in page


def test_a_money_outcome_naming_something_other_than_a_benefit_is_refused(open_case, advisor_user):
    with pytest.raises(ValidationError):
        services.financial_outcome_add(
            case=open_case,
            issue=open_case.issues.first(),
            actor=advisor_user,
            kind="new_or_increased_award",
            benefit=ProblemSubCategory.objects.get(code="rent_arrears"),
            one_off_amount=Decimal("100.00"),
        )
    assert not FinancialOutcome.objects.exists()


def _pip_reconsideration_won(case, advisor):
    issue = case.issues.first()
    services.decision_outcome_add(
        case=case,
        issue=issue,
        actor=advisor,
        stage="mandatory_reconsideration",
        result="awarded",
        decided_on=date(2026, 10, 1),
    )
    services.financial_outcome_add(
        case=case,
        issue=issue,
        actor=advisor,
        kind="new_or_increased_award",
        benefit=ProblemSubCategory.objects.get(code="pip"),
        recurring_amount=Decimal("108.55"),
        recurring_period="weekly",
        confirmed=True,
    )


def test_the_outcome_report_names_the_benefit(open_case, advisor_user, django_capture_on_commit_callbacks):
    assert open_case.issues.get().sub_category is None  # the issue opened from the referral says only "Benefits"
    _pip_reconsideration_won(open_case, advisor_user)
    open_case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.case_close_with_outcomes(
            case=open_case, actor=advisor_user, version=open_case.version, closure_reason="work_completed"
        )
    body = Message.objects.get(kind=MessageKind.OUTCOME_REPORT).body
    assert "Mandatory reconsideration for Personal Independence Payment (PIP): Awarded" in body
    assert "New or increased benefit award, Personal Independence Payment (PIP): £108.55 weekly" in body


def test_a_decision_on_an_issue_that_names_its_benefit_names_it_without_money(open_case, advisor_user):
    issue = open_case.issues.first()
    issue.sub_category = ProblemSubCategory.objects.get(code="esa")
    issue.save()
    decision = services.decision_outcome_add(
        case=open_case, issue=issue, actor=advisor_user, stage="tribunal_appeal", result="refused"
    )
    assert str(decision) == "Tribunal appeal for Employment and Support Allowance (ESA): Refused"


def test_the_case_outcome_list_names_the_benefit(client, open_case, advisor_user):
    _pip_reconsideration_won(open_case, advisor_user)
    client.force_login(advisor_user)
    page = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).content.decode()
    assert "Decision: Mandatory reconsideration for Personal Independence Payment (PIP), awarded" in page


@pytest.mark.django_db(transaction=True)
def test_money_recorded_against_something_that_is_not_a_benefit_names_no_benefit_after_the_migration():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests import factories

    def migrate(targets=None):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets or executor.loader.graph.leaf_nodes())

    issue = factories.CaseIssueFactory()
    rent = factories.FinancialOutcomeFactory(issue=issue)
    pip = factories.FinancialOutcomeFactory(issue=issue)
    try:
        migrate([("outcomes", "0001_initial")])
        with connection.cursor() as cursor:  # what the old list allowed; the model of that time had a code here
            cursor.execute("UPDATE outcomes_financialoutcome SET benefit = 'rent_arrears' WHERE id = %s", [rent.pk])
    finally:
        migrate()
    assert FinancialOutcome.objects.get(pk=rent.pk).benefit is None
    assert FinancialOutcome.objects.get(pk=pip.pk).benefit.code == "pip"


def test_money_with_no_amount_is_refused_in_words_once(open_case):
    form = FinancialOutcomeForm(
        {
            "issue": open_case.issues.first().pk,
            "kind": "grant",
            "one_off_amount": "0",
            "submission_token": "7d7c3a3e-0a4b-4d0e-9a52-1f9f3d3b6f10",
        },
        issues=open_case.issues.all(),
    )
    assert not form.is_valid()
    assert form.non_field_errors() == ["Give a regular amount, a one-off amount, or both."]
