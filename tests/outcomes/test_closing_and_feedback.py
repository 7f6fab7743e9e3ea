from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from casework.models import CaseState
from casework.services import StaleCaseError
from hjp.core.errors import DomainError
from hjp.notifications.models import Message, MessageKind
from outcomes import running_figures, services
from outcomes.models import CaseClosure, FinancialOutcome, NonFinancialOutcome, annualise
from outcomes.selectors.digest import DigestFigures, DigestPeriod, digest_figures
from outcomes.selectors.figures import MoneyGain, MoneyTotals, Period
from referrals import services as referral_services
from referrals.models import ProblemSubCategory, ReferralStatus
from tests import factories
from tests.support.forms import once
from tests.support.pages import looks_missing


@pytest.mark.parametrize(
    ("amount", "period", "yearly"),
    [
        ("100.00", "weekly", "5200.00"),
        ("100.00", "four_weekly", "1300.00"),
        ("100.00", "monthly", "1200.00"),
        ("92.40", "weekly", "4804.80"),
        (None, "", "0.00"),
    ],
)
def test_recurring_amounts_are_annualised(amount, period, yearly):
    assert annualise(Decimal(amount) if amount else None, period) == Decimal(yearly)


def _pip_award(case, advisor, **kw):
    return services.financial_outcome_add(
        case=case,
        issue=case.issues.first(),
        actor=advisor,
        kind="new_or_increased_award",
        benefit=ProblemSubCategory.objects.get(code="pip"),
        recurring_amount=Decimal("108.55"),
        recurring_period="weekly",
        one_off_amount=Decimal("1250.00"),
        confirmed=True,
        **kw,
    )


def _close(case, advisor, **kw):
    case.refresh_from_db()
    return services.case_close_with_outcomes(
        case=case, actor=advisor, version=case.version, closure_reason="work_completed", **kw
    )


@pytest.mark.django_db
def test_a_financial_outcome_stores_its_yearly_value(open_case, advisor_user):
    outcome = _pip_award(open_case, advisor_user)
    assert outcome.annual_amount == Decimal("5644.60") and outcome.total_gain == Decimal("6894.60")


@pytest.mark.django_db
def test_a_case_does_not_close_without_an_outcome_or_a_reason(open_case, advisor_user):
    with pytest.raises(DomainError, match="at least one outcome"):
        _close(open_case, advisor_user)
    open_case.refresh_from_db()
    assert open_case.state != CaseState.CLOSED and not Message.objects.filter(kind=MessageKind.OUTCOME_REPORT).exists()


@pytest.mark.django_db
def test_a_case_closes_with_an_explicit_no_outcome_reason(open_case, advisor_user):
    closed = _close(open_case, advisor_user, no_outcome_reason="no_contact", no_outcome_note="Three calls, no answer")
    assert closed.state == CaseState.CLOSED and closed.referral.status == ReferralStatus.CLOSED
    assert closed.outcome_closure.no_outcome_reason == "no_contact"


@pytest.mark.django_db
def test_a_stale_close_is_refused(open_case, advisor_user):
    _pip_award(open_case, advisor_user)
    with pytest.raises(StaleCaseError):
        services.case_close_with_outcomes(
            case=open_case, actor=advisor_user, version=open_case.version - 1, closure_reason="work_completed"
        )


@pytest.mark.django_db
def test_an_advisor_of_another_service_cannot_record_outcomes(open_case):
    with pytest.raises(DomainError):
        _pip_award(open_case, factories.advisor())


@pytest.mark.django_db
def test_the_outcome_report_with_consent_to_feedback_gives_outcomes_and_money(
    open_case, advisor_user, django_capture_on_commit_callbacks
):
    _pip_award(open_case, advisor_user)
    services.decision_outcome_add(
        case=open_case,
        issue=open_case.issues.first(),
        actor=advisor_user,
        stage="mandatory_reconsideration",
        result="awarded",
        decided_on=date(2026, 10, 1),
    )
    services.wellbeing_record(case=open_case, actor=advisor_user, moment="start", items=[2, 2, 3, 2, 3, 2, 2])
    services.wellbeing_record(case=open_case, actor=advisor_user, moment="close", items=[3, 3, 4, 3, 3, 3, 3])
    with django_capture_on_commit_callbacks(execute=True):
        _close(open_case, advisor_user)
    report = Message.objects.get(kind=MessageKind.OUTCOME_REPORT)
    assert report.recipient == open_case.referral.referrer and report.status == Message.Status.DELIVERED
    assert "Mandatory reconsideration for Personal Independence Payment (PIP): Awarded" in report.body
    assert "£108.55 weekly (£5,644.60 a year)" in report.body and "£6,894.60" in report.body
    assert "16 at the start, 22 at the close (+6)" in report.body
    assert open_case.referral.patient.family_name not in report.body


@pytest.mark.django_db
def test_without_consent_to_feedback_the_report_says_only_that_the_case_closed(
    referral, advisor_user, django_capture_on_commit_callbacks
):
    referral.consent.outcome_feedback = False
    referral.consent.save()
    from casework import services as casework_services

    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    _pip_award(case, advisor_user)
    with django_capture_on_commit_callbacks(execute=True):
        _close(case, advisor_user)
    body = Message.objects.get(kind=MessageKind.OUTCOME_REPORT).body
    assert "has closed the case" in body and "did not consent" in body
    assert "£" not in body and "award" not in body.lower()


@pytest.mark.django_db
def test_a_rolled_back_close_sends_no_report(open_case, advisor_user, django_capture_on_commit_callbacks):
    _pip_award(open_case, advisor_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            _close(open_case, advisor_user)
            raise RuntimeError("something after the close failed")
    open_case.refresh_from_db()
    assert open_case.state != CaseState.CLOSED
    assert not Message.objects.filter(kind=MessageKind.OUTCOME_REPORT).exists()
    assert not any("deliver" in repr(c) for c in callbacks)


@pytest.mark.django_db
def test_consent_withdrawal_cancels_a_report_not_yet_sent(open_case, advisor_user, django_capture_on_commit_callbacks):
    _pip_award(open_case, advisor_user)
    with django_capture_on_commit_callbacks(execute=False):
        _close(open_case, advisor_user)  # the broker never got it: still pending
    referral_services.consent_withdraw(referral=open_case.referral, actor=open_case.referral.referrer)
    report = Message.objects.get(kind=MessageKind.OUTCOME_REPORT)
    assert report.status == Message.Status.CANCELLED


@pytest.mark.django_db
def test_consent_withdrawal_redacts_the_notes_outcomes_hold_but_keeps_the_outcomes(open_case, advisor_user):
    issue = open_case.issues.get()
    services.non_financial_outcome_add(
        case=open_case,
        issue=issue,
        actor=advisor_user,
        kind="eviction_prevented",
        note="Eviction from 12 Acacia Road stopped",
    )
    _close(open_case, advisor_user, no_outcome_reason="other", no_outcome_note="Mrs Kowalski moved to Leeds")
    referral_services.consent_withdraw(referral=open_case.referral, actor=open_case.referral.referrer)
    outcome = NonFinancialOutcome.objects.get(issue=issue)
    closure = CaseClosure.objects.get(case=open_case)
    assert "Acacia" not in outcome.note and outcome.kind == "eviction_prevented"
    assert "Kowalski" not in closure.no_outcome_note and closure.no_outcome_reason == "other"


@pytest.mark.django_db
def test_the_monthly_digest_shows_small_counts_as_fewer_than_ten_and_is_sent_once(
    referrer_user, health_org, partnership, django_capture_on_commit_callbacks
):
    colleague = factories.referrer(health_org)
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=15)
    for _ in range(3):
        factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            submitted_at=timezone.make_aware(timezone.datetime(last_month.year, last_month.month, 15, 10)),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_monthly_digests(year=last_month.year, month=last_month.month) >= 2
        services.send_monthly_digests(year=last_month.year, month=last_month.month)
    digests = Message.objects.filter(kind=MessageKind.DIGEST)
    assert {m.recipient for m in digests} >= {referrer_user, colleague}
    assert digests.filter(recipient=referrer_user).count() == 1
    body = digests.get(recipient=referrer_user).body
    assert "Referrals made: fewer than 10" in body and "Referrals made: 3" not in body


@pytest.mark.django_db
def test_the_digest_does_not_count_referrals_sent_by_mistake(health_org, partnership):
    sent = timezone.make_aware(timezone.datetime(2026, 10, 15, 10))
    for status in (ReferralStatus.SUBMITTED, ReferralStatus.ENTERED_IN_ERROR):
        factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, status=status, submitted_at=sent
        )
    running_figures.refresh_pending()  # as the digest's delivery does before it composes
    figures = digest_figures(organisation=health_org, period=Period.month(2026, 10))
    assert figures.made == 1


@pytest.mark.parametrize(
    ("won", "shown"),
    [
        (1, "not shown for fewer than 10 decisions or wins"),
        (9, "not shown for fewer than 10 decisions or wins"),
        (10, "50% of 20 decisions"),
        (13, "75% of 20 decisions"),  # the published 15 of 20, not the exact 13 of 21 (62%)
    ],
)
def test_the_digest_works_a_success_rate_out_from_the_rounded_counts(health_org, won, shown):
    money = MoneyGain(annual=Decimal("0.00"), one_off=Decimal("1000.00"), total=Decimal("1000.00"), cases=12)
    figures = DigestFigures(
        made=30, accepted=24, closed=21, money=MoneyTotals(confirmed=money, expected=money), decided=21, won=won
    )
    block = DigestPeriod(title="The month", period=Period.month(2026, 10), figures=figures)
    body = services.digest_body(organisation=health_org, blocks=[block])
    assert f"- Success rate of claims and appeals: {shown}\n" in body


@pytest.mark.django_db
def test_daily_reminders_of_evidence_due_and_deadlines_are_sent_once_a_day(
    open_case, advisor_user, django_capture_on_commit_callbacks
):
    from casework import services as casework_services

    today = timezone.localdate()
    casework_services.evidence_request_create(
        case=open_case, actor=advisor_user, what_is_needed="Letter on mobility", due_date=today + timedelta(days=1)
    )
    casework_services.deadline_add(
        case=open_case,
        actor=advisor_user,
        kind="task",
        title="Chase DWP",
        basis_date=None,
        due_date=today - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_daily_reminders(today=today)
        services.send_daily_reminders(today=today)
    evidence = Message.objects.filter(kind=MessageKind.EVIDENCE_REMINDER)
    deadline = Message.objects.filter(kind=MessageKind.DEADLINE_REMINDER)
    assert evidence.count() == 1 and evidence.get().recipient == open_case.referral.referrer
    assert deadline.count() == 1 and deadline.get().recipient == advisor_user and "1 overdue" in deadline.get().subject


def _wellbeing_post(version, value):
    return once({"start-version": version, **{f"start-item_{i}": value for i in range(1, 8)}}, prefix="start")


@pytest.mark.django_db
def test_two_advisors_correcting_the_same_wellbeing_score_do_not_overwrite_each_other(client, open_case, advisor_user):
    colleague = factories.advisor(open_case.referral.advice_organisation)
    url = reverse("outcomes:wellbeing_record", args=[open_case.pk, "start"])
    client.force_login(advisor_user)
    loaded = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk])).context["forms"]
    version = loaded["wellbeing_start"].initial["version"]
    assert version == open_case.version
    client.force_login(colleague)
    assert client.post(url, _wellbeing_post(version, 4)).status_code == 302
    client.force_login(advisor_user)
    stale = client.post(url, _wellbeing_post(version, 2))
    assert stale.status_code == 400 and "Someone else changed this case" in stale.content.decode()
    assert open_case.wellbeing_scores.get(moment="start").total == 28
    # Saving again, having seen the other change, is a deliberate choice and goes through.
    again = client.post(url, _wellbeing_post(stale.context["forms"]["wellbeing_start"].data["start-version"], 2))
    assert again.status_code == 302 and open_case.wellbeing_scores.get(moment="start").total == 14


@pytest.mark.django_db
def test_a_stale_wellbeing_correction_is_refused_by_the_service(open_case, advisor_user):
    version = open_case.version
    services.wellbeing_record(case=open_case, actor=advisor_user, moment="start", items=[3] * 7, version=version)
    with pytest.raises(StaleCaseError):
        services.wellbeing_record(case=open_case, actor=advisor_user, moment="start", items=[5] * 7, version=version)
    assert open_case.wellbeing_scores.get(moment="start").total == 21


@pytest.mark.django_db
def test_the_outcomes_page_keeps_what_was_typed_on_bad_input(client, open_case, advisor_user):
    client.force_login(advisor_user)
    url = reverse("outcomes:financial_add", args=[open_case.pk])
    response = client.post(
        url,
        once(
            {
                "financial-issue": open_case.issues.first().pk,
                "financial-kind": "grant",
                "financial-recurring_amount": "-5",
                "financial-one_off_amount": "abc",
            },
            prefix="financial",
        ),
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'id="error-summary"' in html
    assert 'value="-5"' in html and 'value="abc"' in html
    assert not FinancialOutcome.objects.exists()


@pytest.mark.django_db
def test_closing_from_the_page_without_outcomes_explains_why(client, open_case, advisor_user):
    client.force_login(advisor_user)
    response = client.post(
        reverse("outcomes:case_close", args=[open_case.pk]),
        {"close_case-version": open_case.version, "close_case-closure_reason": "work_completed"},
    )
    assert response.status_code == 400 and "Record at least one outcome" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other advisor", "referrer", "manager"])
def test_other_people_get_404_on_the_outcomes_pages(client, open_case, who, manager_user):
    user = {"other advisor": factories.advisor(), "referrer": open_case.referral.referrer, "manager": manager_user}[who]
    # A name no page says by chance (a generated one such as "Page" is in "Page not found").
    patient = open_case.referral.patient
    patient.family_name = "Featherstonehaugh"
    patient.save()
    client.force_login(user)
    page = client.get(reverse("outcomes:case_outcomes", args=[open_case.pk]))
    assert looks_missing(page)
    assert open_case.referral.patient.family_name not in page.content.decode()
    assert open_case.reference not in page.content.decode()
    response = client.post(
        reverse("outcomes:case_close", args=[open_case.pk]),
        {
            "close_case-version": open_case.version,
            "close_case-closure_reason": "work_completed",
            "close_case-no_outcome_reason": "other",
        },
    )
    assert looks_missing(response)
    open_case.refresh_from_db()
    assert open_case.state != CaseState.CLOSED and not CaseClosure.objects.filter(case=open_case).exists()


def test_the_periodic_jobs_are_scheduled_and_their_timing_is_configurable(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["daily-reminders"]["task"] == "outcomes.tasks.send_daily_reminders"
    assert schedule["daily-reminders"]["schedule"].hour == {settings.REMINDER_HOUR}
    assert schedule["monthly-digests"]["schedule"].day_of_month == {settings.DIGEST_DAY_OF_MONTH}
    assert schedule["sweep-undelivered-messages"]["schedule"] == settings.NOTIFICATION_SWEEP_SECONDS
    from hjp.celery import app

    app.loader.import_default_modules()
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)


@pytest.mark.django_db
def test_a_check_the_model_makes_is_shown_on_the_form_not_as_an_error_page(client, open_case, advisor_user):
    from unittest import mock

    from django.core.exceptions import ValidationError

    client.force_login(advisor_user)
    with mock.patch(
        "outcomes.services.decision_outcome_add", side_effect=ValidationError("That decision date is not possible.")
    ):
        response = client.post(
            reverse("outcomes:decision_add", args=[open_case.pk]),
            once(
                {
                    "decision-issue": open_case.issues.first().pk,
                    "decision-stage": "initial_claim",
                    "decision-result": "awarded",
                },
                prefix="decision",
            ),
        )
    assert response.status_code == 400 and "That decision date is not possible." in response.content.decode()
