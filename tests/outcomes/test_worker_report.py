"""Closing a case with a real Celery worker and real Redis: the report reaches the referrer's inbox."""

import time
from decimal import Decimal

import pytest
from django.utils import timezone

from casework import services as casework_services
from hjp.notifications.models import Message, MessageKind
from outcomes import services
from referrals.models import ProblemCategory
from tests import factories
from tests.support.celery_worker import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_closing_a_case_puts_the_report_in_the_referrers_inbox_within_seconds(celery_worker):
    referral = factories.ReferralFactory(categories=list(ProblemCategory.objects.filter(code="benefits")) or None)
    advisor = factories.advisor(referral.advice_organisation)
    case = casework_services.referral_accept(referral=referral, actor=advisor)
    casework_services.case_note_add(case=case, actor=advisor, kind="call", text="First call.",
                                    occurred_at=timezone.now(), first_contact=True)
    issue = case.issues.first() or casework_services.case_issue_add(
        case=case, actor=advisor, category=ProblemCategory.objects.get_or_create(
            code="benefits", defaults={"name": "Benefits"})[0])
    case.refresh_from_db()
    services.financial_outcome_add(case=case, issue=issue, actor=advisor, kind="new_or_increased_award",
                                   recurring_amount=Decimal("50.00"), recurring_period="weekly")
    case.refresh_from_db()
    started = time.monotonic()
    services.case_close_with_outcomes(case=case, actor=advisor, version=case.version, closure_reason="work_completed")

    report = wait_for(
        lambda: Message.objects.filter(kind=MessageKind.OUTCOME_REPORT, status=Message.Status.DELIVERED).first(),
        timeout=15, what="the outcome report in the inbox",
    )
    assert time.monotonic() - started < 15
    assert report.recipient == referral.referrer and "£2,600.00" in report.body
    wait_for(lambda: celery_worker.emails(), timeout=10, what="the email")
    assert Message.objects.filter(kind=MessageKind.OUTCOME_REPORT).count() == 1
