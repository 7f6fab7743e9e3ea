"""A closed case no longer looks live: closing (or a withdrawal of consent) settles its open deadlines and
issues in the same transaction, and the case page shows no countdowns. The case page says each state once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import CaseIssue, Deadline
from hjp.audit.models import AuditEvent
from outcomes import services as outcome_services
from referrals.models import ProblemSubCategory
from referrals.services import consent_withdraw

pytestmark = pytest.mark.django_db


def _reconsideration(case, advisor, days_ahead=18):
    letter = timezone.localdate() + timedelta(days=days_ahead) - timedelta(days=30)
    deadline = services.deadline_add(
        case=case, actor=advisor, kind=Deadline.Kind.RECONSIDERATION, title="", basis_date=letter
    )
    # Pin the countdown the page would show to a known figure, whatever the month's length.
    Deadline.objects.filter(pk=deadline.pk).update(due_date=timezone.localdate() + timedelta(days=days_ahead))
    return deadline


def _close_with_outcome(case, advisor):
    outcome_services.financial_outcome_add(
        case=case,
        issue=case.issues.first(),
        actor=advisor,
        kind="new_or_increased_award",
        benefit=ProblemSubCategory.objects.get(code="pip"),
        recurring_amount=Decimal("108.55"),
        recurring_period="weekly",
        confirmed=True,
    )
    case.refresh_from_db()
    return outcome_services.case_close_with_outcomes(
        case=case, actor=advisor, version=case.version, closure_reason="work_completed"
    )


def test_closing_settles_open_deadlines_and_issues(case_in_progress, advisor_user):
    open_deadline = _reconsideration(case_in_progress, advisor_user)
    done = services.deadline_add(
        case=case_in_progress,
        actor=advisor_user,
        kind=Deadline.Kind.TASK,
        title="Ring the DWP",
        due_date=timezone.localdate(),
    )
    case_in_progress.refresh_from_db()
    services.deadline_complete(deadline=done, actor=advisor_user, version=case_in_progress.version)
    _close_with_outcome(case_in_progress, advisor_user)

    open_deadline.refresh_from_db()
    done.refresh_from_db()
    assert open_deadline.is_done and open_deadline.closed_with_case and open_deadline.done_by == advisor_user
    assert done.settlement == Deadline.Settlement.DONE  # a deadline the advisor did stays done
    assert not Deadline.objects.filter(case=case_in_progress, done_at__isnull=True).exists()
    assert set(case_in_progress.issues.values_list("status", flat=True)) == {CaseIssue.Status.CLOSED_WITH_CASE}
    entry = AuditEvent.objects.filter(action=AuditEvent.Action.TRANSITION, summary__startswith="closed:").get()
    assert "closed with the case: 1 open deadline(s), 1 open issue(s)" in entry.summary


def test_a_close_that_rolls_back_leaves_deadlines_and_issues_open(case_in_progress, advisor_user):
    deadline = _reconsideration(case_in_progress, advisor_user)
    with pytest.raises(RuntimeError), transaction.atomic():
        _close_with_outcome(case_in_progress, advisor_user)
        raise RuntimeError("after the close")
    deadline.refresh_from_db()
    assert not deadline.is_done
    assert set(case_in_progress.issues.values_list("status", flat=True)) == {CaseIssue.Status.OPEN}


def test_consent_withdrawal_settles_open_deadlines_and_issues(case_in_progress, advisor_user, referral):
    deadline = _reconsideration(case_in_progress, advisor_user)
    consent_withdraw(referral=referral, actor=referral.referrer)
    deadline.refresh_from_db()
    assert deadline.closed_with_case and deadline.done_by == referral.referrer
    assert deadline.title == services.REDACTED and deadline.kind == Deadline.Kind.RECONSIDERATION
    assert set(case_in_progress.issues.values_list("status", flat=True)) == {CaseIssue.Status.CLOSED_WITH_CASE}


def test_reopening_reopens_the_issues_and_leaves_deadlines_settled(case_in_progress, advisor_user, supervisor_user):
    deadline = _reconsideration(case_in_progress, advisor_user)
    closed = _close_with_outcome(case_in_progress, advisor_user)
    services.case_reopen(case=closed, actor=supervisor_user, version=closed.version, reason="New decision letter")
    deadline.refresh_from_db()
    assert deadline.closed_with_case
    issue = case_in_progress.issues.get()
    assert issue.status == CaseIssue.Status.OPEN and issue.resolved_at is None


def test_a_case_anonymised_after_the_retention_period_cannot_be_reopened(
    case_in_progress, advisor_user, supervisor_user, referral
):
    """Retention erases a patient once: reopening would let new notes about them be written and kept for good.
    Nor can consent be withdrawn or changed on such a record."""
    from hjp.core.errors import DomainError
    from referrals.permissions import can_change_consent_scope, can_withdraw_consent
    from referrals.services.erasure import referrals_erase

    closed = _close_with_outcome(case_in_progress, advisor_user)
    with transaction.atomic():
        referrals_erase(referral_ids=[referral.pk], reason="retention")
    closed.refresh_from_db()
    notes_before = closed.notes.count()
    with pytest.raises(DomainError, match="removed after the retention period"):
        services.case_reopen(case=closed, actor=supervisor_user, version=closed.version, reason="New letter")
    closed.refresh_from_db()
    assert not closed.is_open and closed.notes.count() == notes_before
    referral.refresh_from_db()
    assert not can_withdraw_consent(supervisor_user, referral) and not can_change_consent_scope(advisor_user, referral)


def test_the_page_of_a_closed_case_shows_no_countdown_and_no_open_issue(client, case_in_progress, advisor_user):
    _reconsideration(case_in_progress, advisor_user, days_ahead=18)
    client.force_login(advisor_user)
    url = reverse("casework:case", args=[case_in_progress.pk])
    assert "in 18 days" in client.get(url).content.decode()  # the open case counts down
    _close_with_outcome(case_in_progress, advisor_user)
    page = client.get(url).content.decode()
    assert "in 18 days" not in page and "Mark done" not in page
    assert "Closed with the case" in page
    assert '">Open</span>' not in page


def test_the_page_of_a_case_stopped_by_consent_withdrawal_shows_no_countdown(
    client, case_in_progress, advisor_user, referral
):
    _reconsideration(case_in_progress, advisor_user, days_ahead=18)
    consent_withdraw(referral=referral, actor=referral.referrer)
    client.force_login(advisor_user)
    page = client.get(reverse("casework:case", args=[case_in_progress.pk])).content.decode()
    assert "in 18 days" not in page and "Closed with the case" in page
    assert '">Open</span>' not in page


def test_awaiting_first_contact_is_said_once(client, case, advisor_user):
    client.force_login(advisor_user)
    page = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert page.count("Awaiting first contact") == 1


def test_no_reopen_button_once_consent_is_withdrawn_after_the_case_closed(
    client, case_in_progress, advisor_user, supervisor_user
):
    """Before, a supervisor saw 'Reopen' on a case closed for another reason whose patient then withdrew
    consent, and every press of it was refused ("Consent was withdrawn: this case cannot be reopened")."""
    _close_with_outcome(case_in_progress, advisor_user)
    client.force_login(supervisor_user)
    page = reverse("casework:case", args=[case_in_progress.pk])
    reopen = reverse("casework:reopen", args=[case_in_progress.pk])
    assert reopen in client.get(page).content.decode()  # a closed case can be reopened

    consent_withdraw(referral=case_in_progress.referral, actor=case_in_progress.referral.referrer)
    html = client.get(page).content.decode()
    assert reopen not in html and "Reopen</a>" not in html
