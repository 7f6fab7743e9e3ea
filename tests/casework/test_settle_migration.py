"""Migrations 0002-0004 settle what cases closed before them left open, on a database that has such cases,
and can be undone."""

from datetime import date

import pytest
from django.utils import timezone

from casework.models import CaseIssue, Deadline
from tests import factories
from tests.support.migrations import migrate_to

BEFORE = [("casework", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_a_case_closed_before_settling_existed_has_its_open_deadline_and_issue_settled(advisor_user):
    case = factories.CaseFactory(
        advisor=advisor_user, state="closed", closed_at=timezone.now(), closure_reason="work_completed"
    )
    try:
        old = migrate_to(BEFORE)
        issue = old.get_model("casework", "CaseIssue").objects.create(
            case_id=case.pk, category_id=old.get_model("referrals", "ProblemCategory").objects.first().pk
        )
        deadline = old.get_model("casework", "Deadline").objects.create(
            case_id=case.pk, kind="other", title="Hearing", due_date=date(2026, 1, 5)
        )
    finally:
        migrate_to()
    settled = Deadline.objects.get(pk=deadline.pk)
    assert settled.settlement == "closed_with_case" and settled.done_at == case.closed_at
    assert CaseIssue.objects.get(pk=issue.pk).status == "closed"

    try:
        migrate_to(BEFORE)  # undone: the issue is open again and the deadline not done
        old = migrate_to(BEFORE)
        assert old.get_model("casework", "CaseIssue").objects.get(pk=issue.pk).status == "open"
        assert old.get_model("casework", "Deadline").objects.get(pk=deadline.pk).done_at is None
    finally:
        migrate_to()
