"""Sub-categories are a reference list admins keep beside the categories (not a dict in code): what an admin
adds or renames is what advisors are offered and what pages and reports say; the benefits a money outcome can
name are the benefits category's sub-categories. Pages read them without a query per row."""

import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import CaseIssue
from hjp.notifications.models import Message, MessageKind
from outcomes import services as outcome_services
from outcomes.forms import FinancialOutcomeForm
from outcomes.models import FinancialOutcome
from referrals.models import ProblemCategory, ProblemSubCategory
from tests import factories

pytestmark = pytest.mark.django_db


def _once(data):
    return {**data, "submission_token": str(uuid.uuid4())}


@pytest.fixture
def open_case(referral, advisor_user):
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    casework_services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="First call.", occurred_at=timezone.now(), first_contact=True
    )
    case.refresh_from_db()
    return case


def test_a_sub_category_an_admin_adds_is_offered_to_advisors_and_shown_on_the_case(client, open_case, advisor_user):
    housing = ProblemCategory.objects.get(code="housing")
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:referrals_problemsubcategory_add"),
        {"category": housing.pk, "code": "damp_and_mould", "name": "Damp and mould", "position": 9},
    )
    assert response.status_code == 302

    client.force_login(advisor_user)
    add_issue = reverse("casework:issue_add", args=[open_case.pk])
    form_page = client.get(add_issue).content.decode()
    assert '<optgroup label="Housing">' in form_page and ">Damp and mould</option>" in form_page
    response = client.post(
        add_issue,
        _once({"category": housing.pk, "sub_category": "damp_and_mould", "description": "Mould in the bedroom"}),
    )
    assert response.status_code == 302
    case_page = client.get(reverse("casework:case", args=[open_case.pk])).content.decode()
    assert "<strong>Housing</strong>: Damp and mould" in case_page


def test_renaming_a_sub_category_renames_it_on_the_case_and_in_the_outcome_report(
    client, open_case, advisor_user, django_capture_on_commit_callbacks
):
    pip = ProblemSubCategory.objects.get(code="pip")
    issue = open_case.issues.get()
    issue.sub_category = pip
    issue.save()
    outcome_services.financial_outcome_add(
        case=open_case,
        issue=issue,
        actor=advisor_user,
        kind="new_or_increased_award",
        benefit=pip,
        recurring_amount=Decimal("108.55"),
        recurring_period="weekly",
    )
    ProblemSubCategory.objects.filter(pk=pip.pk).update(name="PIP (daily living and mobility)")

    client.force_login(advisor_user)
    assert (
        "Benefits: PIP (daily living and mobility)"
        in client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).content.decode()
    )
    open_case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        outcome_services.case_close_with_outcomes(
            case=open_case, actor=advisor_user, version=open_case.version, closure_reason="work_completed"
        )
    body = Message.objects.get(kind=MessageKind.OUTCOME_REPORT).body
    assert "New or increased benefit award, PIP (daily living and mobility): £108.55 weekly" in body


def test_the_benefits_a_money_outcome_names_are_the_benefits_categorys_sub_categories(open_case):
    benefits, debt = ProblemCategory.objects.get(code="benefits"), ProblemCategory.objects.get(code="debt")
    ProblemSubCategory.objects.create(category=benefits, code="child_benefit", name="Child Benefit", position=20)
    ProblemSubCategory.objects.create(category=debt, code="payday_loans", name="Payday loans", position=20)
    labels = [label for _, label in FinancialOutcomeForm(issues=open_case.issues.all()).fields["benefit"].choices]
    assert labels[0] == "Not a benefit"
    assert "Child Benefit" in labels and "Personal Independence Payment (PIP)" in labels
    assert "Payday loans" not in labels and "Rent arrears" not in labels


def test_an_issue_edited_to_another_category_keeps_a_sub_category_only_of_that_category(
    client, open_case, advisor_user
):
    issue = open_case.issues.get()
    client.force_login(advisor_user)
    url = reverse("casework:issue_edit", args=[open_case.pk, issue.pk])
    edit_page = client.get(url).content.decode()
    assert '<option value="" selected>None</option>' in edit_page
    debt = ProblemCategory.objects.get(code="debt")
    response = client.post(
        url, _once({"version": open_case.version, "category": debt.pk, "sub_category": "esa", "description": "Arrears"})
    )
    assert response.status_code == 400
    assert "Employment and Support Allowance (ESA) is not part of Debt." in response.content.decode()
    issue.refresh_from_db()
    assert issue.sub_category is None


def _issues_with_money(case, n):
    names = ["pip", "esa", "universal_credit", "dla", "pension_credit", "carers_allowance"]
    for code in names[:n]:
        benefit = ProblemSubCategory.objects.get(code=code)
        issue = factories.CaseIssueFactory(case=case, sub_category=benefit)
        factories.FinancialOutcomeFactory(issue=issue, benefit=benefit)
        factories.DecisionOutcomeFactory(issue=issue)


# Signed-in page costs (session read; the user with its inbox count and second-factor devices; memberships;
# audit entry);
# the case (with its wellbeing scores and the corrections of its outcomes), its issues (category and
# sub-category joined), their money (benefit joined), decisions and other outcomes; and the money form's list
# of benefits (1: it was a list in code before sub-categories became a table). The money totals are added up
# from the money read, and the three outcome forms list the issues read (RowChoiceField), not again.
OUTCOMES_PAGE_QUERIES = 10


@pytest.mark.parametrize("issues", [1, 6])
def test_the_outcomes_page_reads_sub_categories_and_benefits_without_a_query_per_row(
    client, open_case, advisor_user, django_assert_num_queries, issues
):
    _issues_with_money(open_case, issues)
    client.force_login(advisor_user)
    with django_assert_num_queries(OUTCOMES_PAGE_QUERIES):
        page = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).content.decode()
    assert page.count("(Personal Independence Payment (PIP))") == 1


@pytest.mark.parametrize("issues", [1, 6])
def test_the_outcome_report_reads_sub_categories_and_benefits_without_a_query_per_row(
    open_case, django_assert_num_queries, issues
):
    _issues_with_money(open_case, issues)
    case = (
        type(open_case)
        .objects.select_related("referral__consent", "referral__patient", "referral__advice_organisation")
        .get(pk=open_case.pk)
    )
    # The issues (category and sub-category joined), their money (benefit joined), decisions, other outcomes,
    # and the wellbeing scores.
    with django_assert_num_queries(5):
        body = outcome_services.outcome_report_body(case)
    assert "Benefits: Personal Independence Payment (PIP)" in body


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_codes_into_rows_and_back():
    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)

    issue = factories.CaseIssueFactory(
        category=ProblemCategory.objects.get(code="housing"),
        sub_category=ProblemSubCategory.objects.get(code="disrepair"),
    )
    bare = factories.CaseIssueFactory(sub_category=None)
    before = [("casework", "0004_settled_deadlines_and_issues_say_how")]
    try:
        migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, sub_category FROM casework_caseissue WHERE id IN (%s, %s) ORDER BY id", [issue.pk, bare.pk]
            )
            assert cursor.fetchall() == [(issue.pk, "disrepair"), (bare.pk, "")]
    finally:
        executor = MigrationExecutor(connection)
        migrate(executor.loader.graph.leaf_nodes())
    assert CaseIssue.objects.get(pk=issue.pk).sub_category.code == "disrepair"
    assert str(CaseIssue.objects.get(pk=issue.pk)) == "Housing: Disrepair"
    assert CaseIssue.objects.get(pk=bare.pk).sub_category is None


def test_the_demo_names_sub_categories_and_benefits_from_the_table(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    issues = CaseIssue.objects.select_related("category", "sub_category")
    assert issues.filter(sub_category__code="pip").exists()
    assert all(issue.sub_category.category_id == issue.category_id for issue in issues if issue.sub_category_id)
    awards = FinancialOutcome.objects.filter(kind="new_or_increased_award").select_related("benefit__category")
    assert awards.exists() and {award.benefit.category.code for award in awards} == {"benefits"}
