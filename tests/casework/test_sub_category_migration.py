"""Sub-category codes become rows (referrals 0008, casework 0005, outcomes 0003) on a database an admin has
changed: the benefits category recoded, so the seed cannot place its sub-categories."""

import pytest

from casework.models import CaseIssue
from outcomes.models import FinancialOutcome
from tests import factories
from tests.support.migrations import migrate_to

BEFORE = [
    ("referrals", "0007_patient_sex_choices"),
    ("casework", "0004_settled_deadlines_and_issues_say_how"),
    ("outcomes", "0002_money_outcome_names_a_benefit"),
]


@pytest.mark.django_db(transaction=True)
def test_codes_the_seed_cannot_place_become_rows_and_no_benefit_is_forgotten():
    issue = factories.CaseIssueFactory()
    money = factories.FinancialOutcomeFactory(issue=issue)
    try:
        old = migrate_to(BEFORE)
        old.get_model("referrals", "ProblemCategory").objects.filter(code="benefits").update(code="welfare_benefits")
        old.get_model("casework", "CaseIssue").objects.filter(pk=issue.pk).update(sub_category="attendance_allowance")
        old.get_model("outcomes", "FinancialOutcome").objects.filter(pk=money.pk).update(benefit="attendance_allowance")
    finally:
        migrate_to()  # on PostgreSQL this failed with "pending trigger events"; the money's benefit was lost
    issue = CaseIssue.objects.select_related("sub_category").get(pk=issue.pk)
    assert issue.sub_category.code == "attendance_allowance" and issue.sub_category.name == "Attendance Allowance"
    assert FinancialOutcome.objects.get(pk=money.pk).benefit == issue.sub_category
