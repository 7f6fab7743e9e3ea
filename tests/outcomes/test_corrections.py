"""Correcting recorded outcomes: edits with history and optimistic locking, expected money confirmed after the
close, 'entered in error' kept but counted nowhere; every figure follows."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseState, ClosureReason
from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from outcomes import corrections, services
from outcomes.corrections import StaleOutcomeError
from outcomes.models import DecisionOutcome, FinancialOutcome, OutcomeChange
from outcomes.selectors.case import case_money
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.figures import Period
from referrals.models import ReferralStatus
from tests import factories

PERIOD = Period(start=date(2026, 1, 1), end=date(2026, 6, 30))
CLOSED_AT = timezone.make_aware(datetime(2026, 3, 10, 12))


@pytest.fixture
def case(partnership, advisor_user):
    referral = factories.ReferralFactory(partnership=partnership, status=ReferralStatus.IN_PROGRESS)
    return factories.CaseFactory(referral=referral, advisor=advisor_user)


@pytest.fixture
def issue(case):
    return factories.CaseIssueFactory(case=case)


@pytest.fixture
def money(issue):
    return factories.FinancialOutcomeFactory(issue=issue)  # £100 a week, confirmed: £5,200 a year


def _close(case):
    case.state, case.closed_at, case.closure_reason = CaseState.CLOSED, CLOSED_AT, ClosureReason.WORK_COMPLETED
    case.save()
    case.referral.status = ReferralStatus.CLOSED
    case.referral.save()


def _edit(outcome, actor, **fields):
    outcome.refresh_from_db()
    return corrections.outcome_update(outcome=outcome, actor=actor, version=outcome.version, **fields)


# --- the services ------------------------------------------------------------------------------------------


def test_an_edit_keeps_its_history_moves_the_version_on_and_is_audited(money, advisor_user):
    change = _edit(money, advisor_user, recurring_amount=Decimal("120.00"), reason="The award letter came.")
    money.refresh_from_db()
    assert (money.recurring_amount, money.annual_amount, money.version) == (Decimal("120.00"), Decimal("6240.00"), 2)
    assert change.changes == [{"field": "regular amount", "old": "£100.00", "new": "£120.00"}]
    assert (change.actor, change.action, change.reason) == (advisor_user, "edited", "The award letter came.")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(money.pk), summary__contains="regular amount"
    ).exists()


def test_an_edit_loaded_before_someone_elses_is_refused_and_saves_nothing(money, advisor_user, supervisor_user):
    loaded_at = money.version
    _edit(money, supervisor_user, one_off_amount=Decimal("50.00"))
    with pytest.raises(StaleOutcomeError) as refused:
        corrections.outcome_update(
            outcome=money, actor=advisor_user, version=loaded_at, recurring_amount=Decimal("90.00")
        )
    assert refused.value.current.one_off_amount == Decimal("50.00")
    money.refresh_from_db()
    assert money.recurring_amount == Decimal("100.00")
    assert OutcomeChange.objects.count() == 1


def test_an_edit_that_changes_nothing_is_refused(money, advisor_user):
    with pytest.raises(DomainError, match="Nothing was changed"):
        _edit(money, advisor_user, recurring_amount=Decimal("100"))


def test_after_the_close_only_a_supervisor_corrects(case, money, advisor_user, supervisor_user):
    _close(case)
    with pytest.raises(DomainError, match="a supervisor corrects"):
        _edit(money, advisor_user, recurring_amount=Decimal("120"))
    with pytest.raises(DomainError, match="a supervisor corrects"):
        corrections.outcome_mark_entered_in_error(
            outcome=money, actor=advisor_user, version=money.version, reason="Wrong case."
        )
    _edit(money, supervisor_user, recurring_amount=Decimal("120"))
    money.refresh_from_db()
    assert money.annual_amount == Decimal("6240.00")


def test_an_advisor_of_another_service_cannot_correct(money):
    stranger = factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True)
    with pytest.raises(DomainError, match="Only advisors of this case's advice service"):
        _edit(money, stranger, recurring_amount=Decimal("120"))


def test_the_advisor_confirms_expected_money_months_after_the_close(case, issue, advisor_user):
    expected = factories.FinancialOutcomeFactory(issue=issue, confirmed=False)
    _close(case)
    change = _edit(expected, advisor_user, confirmed=True, recurring_amount=Decimal("110"), reason="Letter came.")
    assert change.action == OutcomeChange.Action.CONFIRMED
    assert {c["field"]: (c["old"], c["new"]) for c in change.changes} == {
        "regular amount": ("£100.00", "£110.00"),
        "confirmed or expected": ("expected", "confirmed"),
    }
    # ... but it is confirming that they may do, not any other correction of a closed case.
    with pytest.raises(DomainError, match="a supervisor corrects"):
        _edit(expected, advisor_user, recurring_amount=Decimal("10"))
    other_advisor = factories.advisor(case.referral.advice_organisation)
    still_expected = factories.FinancialOutcomeFactory(issue=issue, confirmed=False)
    with pytest.raises(DomainError, match="a supervisor corrects"):
        _edit(still_expected, other_advisor, confirmed=True)


def test_entered_in_error_needs_a_reason_is_kept_and_counts_nowhere(case, issue, money, advisor_user):
    factories.FinancialOutcomeFactory(issue=issue, recurring_amount=None, recurring_period="", one_off_amount=300)
    with pytest.raises(DomainError, match="Say why"):
        corrections.outcome_mark_entered_in_error(outcome=money, actor=advisor_user, version=money.version, reason=" ")
    corrections.outcome_mark_entered_in_error(
        outcome=money, actor=advisor_user, version=money.version, reason="Another patient's award."
    )
    money.refresh_from_db()
    assert (money.entered_in_error_by, money.entered_in_error_reason) == (advisor_user, "Another patient's award.")
    assert FinancialOutcome.objects.filter(pk=money.pk).exists()
    assert case_money(case=case)["total"] == Decimal("300.00")
    with pytest.raises(DomainError, match="already marked"):
        corrections.outcome_mark_entered_in_error(outcome=money, actor=advisor_user, version=money.version, reason="x")
    with pytest.raises(DomainError, match="marked as entered in error"):
        _edit(money, advisor_user, recurring_amount=Decimal("1"))


def test_a_case_whose_only_outcome_was_entered_in_error_closes_only_with_a_reason(case, money, advisor_user):
    corrections.outcome_mark_entered_in_error(outcome=money, actor=advisor_user, version=money.version, reason="x")
    case.refresh_from_db()
    with pytest.raises(DomainError, match="Record at least one outcome"):
        services.case_close_with_outcomes(
            case=case, actor=advisor_user, version=case.version, closure_reason=ClosureReason.WORK_COMPLETED
        )


# --- every figure follows ----------------------------------------------------------------------------------


def test_the_dashboard_totals_follow_an_edit_and_an_entry_in_error(case, issue, money, supervisor_user):
    decision = factories.DecisionOutcomeFactory(issue=issue, result="awarded")
    _close(case)
    before = partnership_summary(partnership=case.referral.partnership, period=PERIOD)
    assert before.money.confirmed.total == Decimal("5200.00")
    assert (before.all_decisions.successful, before.all_decisions.decided) == (1, 1)

    _edit(money, supervisor_user, recurring_amount=Decimal("50"), one_off_amount=Decimal("25"))
    edited = partnership_summary(partnership=case.referral.partnership, period=PERIOD)
    assert edited.money.confirmed.total == Decimal("2625.00")
    assert edited.months[2].confirmed == Decimal("2625.00")  # March, the month it closed

    _edit(decision, supervisor_user, result="refused")
    assert partnership_summary(partnership=case.referral.partnership, period=PERIOD).all_decisions.successful == 0

    money.refresh_from_db()
    corrections.outcome_mark_entered_in_error(
        outcome=money, actor=supervisor_user, version=money.version, reason="Wrong case."
    )
    decision.refresh_from_db()
    corrections.outcome_mark_entered_in_error(
        outcome=decision, actor=supervisor_user, version=decision.version, reason="Wrong case."
    )
    after = partnership_summary(partnership=case.referral.partnership, period=PERIOD)
    assert (after.money.confirmed.total, after.money.confirmed.cases) == (Decimal("0.00"), 0)
    assert after.all_decisions.decided == 0
    assert after.months[2].confirmed == Decimal("0.00")


def _csv_money(client):
    response = client.get(reverse("outcomes:funder_report_csv"), {"period": "quarter-2025-4"})  # January to March
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    return {row[4]: row[5] for row in rows if row[3] == "Money gained (cases closed in the period)"}


def test_the_funder_csv_follows_an_edit_and_an_entry_in_error(client, partnership, supervisor_user):
    funder = factories.partnership_member(partnership, Role.FUNDER)
    cases = []
    for _ in range(10):  # ten cases, so that the funder sees the money (fewer are not shown: outcomes.disclosure)
        referral = factories.ReferralFactory(partnership=partnership, status=ReferralStatus.IN_PROGRESS)
        case = factories.CaseFactory(referral=referral)
        factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=case))
        _close(case)
        cases.append(case)
    client.force_login(funder)
    assert _csv_money(client)["Confirmed: total"] == "52000.00"

    first = FinancialOutcome.objects.get(issue__case=cases[0])
    _edit(first, supervisor_user, recurring_amount=Decimal("200"))
    assert _csv_money(client)["Confirmed: total"] == "57200.00"

    first.refresh_from_db()
    corrections.outcome_mark_entered_in_error(outcome=first, actor=supervisor_user, version=first.version, reason="x")
    figures = _csv_money(client)
    assert figures["Confirmed: total"] == "not shown"  # now 9 cases: fewer than 10
    assert figures["Confirmed: cases"] == "fewer than 10"


def test_the_outcome_report_leaves_out_what_was_entered_in_error(case, issue, money, advisor_user):
    factories.DecisionOutcomeFactory(issue=issue, result="refused")
    decision = DecisionOutcome.objects.get(issue=issue)
    corrections.outcome_mark_entered_in_error(outcome=money, actor=advisor_user, version=1, reason="Wrong case.")
    corrections.outcome_mark_entered_in_error(outcome=decision, actor=advisor_user, version=1, reason="Wrong case.")
    body = services.outcome_report_body(case)
    assert "£100.00" not in body
    assert "Refused" not in body


# --- the pages ---------------------------------------------------------------------------------------------


def test_the_outcomes_page_shows_each_change_and_strikes_through_what_was_entered_in_error(
    as_user, case, issue, money, advisor_user
):
    advisor_user.full_name = "Alex Advisor"
    advisor_user.save()
    _edit(money, advisor_user, recurring_amount=Decimal("120"), reason="The letter came.")
    decision = factories.DecisionOutcomeFactory(issue=issue)
    corrections.outcome_mark_entered_in_error(outcome=decision, actor=advisor_user, version=1, reason="Duplicate.")
    html = as_user(advisor_user).get(reverse("outcomes:case_outcomes", args=[case.pk])).content.decode()
    today = timezone.localdate()
    assert (
        f"Changed by Alex Advisor on {today.day} {today:%b %Y}: regular amount £100.00 → £120.00. Why: The letter came."
        in html
    )
    assert "<del>Decision: Initial claim" in html
    assert f"marked by Alex Advisor on {today.day} {today:%b %Y}: Duplicate." in html
    assert reverse("outcomes:outcome_edit", args=[case.pk, "financial", money.pk]) in html
    assert reverse("outcomes:outcome_entered_in_error", args=[case.pk, "decision", decision.pk]) not in html


def test_the_outcomes_page_makes_the_same_number_of_queries_with_more_corrections(
    as_user, django_assert_num_queries, case, issue, money, advisor_user
):
    client = as_user(advisor_user)
    _edit(money, advisor_user, recurring_amount=Decimal("120"))
    client.get(reverse("outcomes:case_outcomes", args=[case.pk]))  # warm the session and reference caches
    with django_assert_num_queries(QUERIES_OF_THE_OUTCOMES_PAGE):
        client.get(reverse("outcomes:case_outcomes", args=[case.pk]))
    for amount in range(1, 6):
        outcome = factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=case))
        _edit(outcome, advisor_user, recurring_amount=Decimal(amount))
        corrections.outcome_mark_entered_in_error(outcome=outcome, actor=advisor_user, version=2, reason="x")
        factories.DecisionOutcomeFactory(issue=outcome.issue)
    with django_assert_num_queries(QUERIES_OF_THE_OUTCOMES_PAGE):
        page = client.get(reverse("outcomes:case_outcomes", args=[case.pk]))
    text = page.content.decode()
    assert text.count("Entered in error</strong>, marked by") == 5
    assert text.count(f"Changed by {advisor_user.full_name} on ") == 6  # the first money and the five more


# The same with one correction as with five more outcomes, each corrected and marked entered in error: three
# before the view (tests/core/test_page_budget.py), the case with its scores and corrections, its issues, their
# outcomes of each kind (3), the audit entry and the benefits to choose from.
QUERIES_OF_THE_OUTCOMES_PAGE = 10


def test_correcting_through_the_page(as_user, case, money, advisor_user):
    client = as_user(advisor_user)
    url = reverse("outcomes:outcome_edit", args=[case.pk, "financial", money.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="version" value="1"' in page.content.decode()
    form = {
        "kind": money.kind,
        "benefit": "pip",
        "recurring_amount": "130.00",
        "recurring_period": "weekly",
        "one_off_amount": "0",
        "confirmed": "on",
        "version": "1",
        "reason": "Award letter.",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:case_outcomes", args=[case.pk])
    money.refresh_from_db()
    assert money.annual_amount == Decimal("6760.00")

    # The same form again, loaded at version 1: refused, what was typed kept, what is saved now shown.
    response = client.post(url, form | {"recurring_amount": "140.00"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Someone else changed this outcome" in html
    assert 'value="140.00"' in html
    assert "£130.00" in html


def test_bad_input_on_the_correction_page_is_explained_and_kept(as_user, case, money, advisor_user):
    url = reverse("outcomes:outcome_edit", args=[case.pk, "financial", money.pk])
    response = as_user(advisor_user).post(
        url, {"kind": money.kind, "recurring_amount": "-5", "recurring_period": "weekly", "version": "1"}
    )
    assert response.status_code == 400
    assert "A regular amount must be more than £0." in response.content.decode()
    assert 'value="-5"' in response.content.decode()


def test_marking_entered_in_error_through_the_page(as_user, case, money, advisor_user):
    client = as_user(advisor_user)
    url = reverse("outcomes:outcome_entered_in_error", args=[case.pk, "financial", money.pk])
    response = client.post(url, {"version": "1", "reason": ""})
    assert response.status_code == 400
    assert "Say why it was entered in error." in response.content.decode()
    assert client.post(url, {"version": "1", "reason": "Wrong patient."}).status_code == 302
    money.refresh_from_db()
    assert money.is_entered_in_error
    assert client.get(url).status_code == 404  # nothing left to mark


def test_after_the_close_the_advisor_gets_only_the_confirm_page_for_expected_money(as_user, case, issue, advisor_user):
    expected = factories.FinancialOutcomeFactory(issue=issue, confirmed=False)
    confirmed = factories.FinancialOutcomeFactory(issue=issue)
    _close(case)
    client = as_user(advisor_user)
    page = client.get(reverse("outcomes:outcome_edit", args=[case.pk, "financial", expected.pk]))
    assert page.status_code == 200
    assert "Confirm money gained" in page.content.decode()
    assert client.get(reverse("outcomes:outcome_edit", args=[case.pk, "financial", confirmed.pk])).status_code == 404
    url = reverse("outcomes:outcome_entered_in_error", args=[case.pk, "financial", expected.pk])
    assert client.get(url).status_code == 404


def test_an_outcome_of_another_case_is_not_found(as_user, case, advisor_user, partnership):
    other = factories.FinancialOutcomeFactory(
        issue=factories.CaseIssueFactory(
            case=factories.CaseFactory(referral=factories.ReferralFactory(partnership=partnership))
        )
    )
    client = as_user(advisor_user)
    assert client.get(reverse("outcomes:outcome_edit", args=[case.pk, "financial", other.pk])).status_code == 404
    assert client.get(reverse("outcomes:outcome_edit", args=[case.pk, "decision", other.pk])).status_code == 404


def test_the_history_is_kept_for_the_case_with_its_times(money, advisor_user, supervisor_user):
    _edit(money, advisor_user, recurring_amount=Decimal("120"))
    _edit(money, supervisor_user, recurring_period="monthly")
    history = list(OutcomeChange.objects.filter(outcome_kind="financial", outcome_id=money.pk))
    assert [h.actor for h in history] == [advisor_user, supervisor_user]
    assert history[1].changes == [{"field": "paid", "old": "Weekly", "new": "Monthly"}]
    assert history[1].at - history[0].at < timedelta(minutes=1)
