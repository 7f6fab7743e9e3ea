"""Closing a case with a real Celery worker on real Redis: the outcome report reaches the referrer's inbox
within seconds, exactly once, even when the broker is down at the moment of closing or the worker is killed
while it sends."""

import os
import signal
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from hjp.notifications.models import Message, MessageKind
from hjp.notifications.tasks import sweep_undelivered
from outcomes import services
from referrals import services as referral_services
from referrals.models import ConsentScope
from tests import factories
from tests.support.celery_worker import PrivateRedis, celery_publishing_to, free_port, start_worker, wait_for
from tests.support.smtp_listener import SmtpListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def closable_case():
    """An in-progress case with one outcome recorded, made without sending any message."""
    issue = factories.CaseIssueFactory()
    case = issue.case
    services.financial_outcome_add(
        case=case,
        issue=issue,
        actor=case.advisor,
        kind="new_or_increased_award",
        recurring_amount=Decimal("50.00"),
        recurring_period="weekly",
    )
    case.refresh_from_db()
    return case


def close(case):
    return services.case_close_with_outcomes(
        case=case, actor=case.advisor, version=case.version, closure_reason="work_completed"
    )


def reports():
    return Message.objects.filter(kind=MessageKind.OUTCOME_REPORT)


def report_emails(worker):
    return [email for email in worker.emails() if "outcome report" in email.text]


def test_closing_a_case_puts_the_report_in_the_referrers_inbox_within_seconds(celery_worker):
    case = closable_case()
    started = time.monotonic()
    close(case)
    report = wait_for(
        lambda: reports().filter(status=Message.Status.DELIVERED).first(),
        timeout=15,
        what="the outcome report in the inbox",
    )
    assert time.monotonic() - started < 15
    assert report.recipient == case.referral.referrer and "£2,600.00" in report.body
    wait_for(lambda: report_emails(celery_worker), timeout=10, what="the email")
    assert reports().count() == 1


def test_a_close_while_the_broker_is_down_still_delivers_exactly_one_report(tmp_path):
    broker = PrivateRedis(port=free_port())
    broker.start()
    with celery_publishing_to(broker.url):
        worker = start_worker(broker_url=broker.url, workdir=tmp_path)
        try:
            case = closable_case()
            broker.stop()
            close(case)  # the close itself succeeds
            case.refresh_from_db()
            assert case.state == "closed" and reports().get().status == Message.Status.PENDING

            broker.start()
            reports().update(created_at=reports().get().created_at - timedelta(minutes=5))
            sweep_undelivered.delay()  # what beat runs every NOTIFICATION_SWEEP_SECONDS
            wait_for(
                lambda: reports().filter(status=Message.Status.DELIVERED).exists(),
                timeout=90,
                what="the report after the broker came back",
            )
            wait_for(lambda: report_emails(worker), timeout=30, what="the email")
            # A second sweep finds nothing left to hand over, and every task the worker got has finished, so
            # a late duplicate would already be in the counts below.
            second_sweep = sweep_undelivered.delay()
            assert worker.wait_finished(second_sweep.id).endswith(": 0")
            worker.wait_idle()
            assert reports().count() == 1 and len(report_emails(worker)) == 1
        finally:
            worker.stop()
            broker.stop()


def test_a_worker_killed_while_sending_the_report_still_ends_with_exactly_one(redis_url, tmp_path):
    # The email's fate is unknown once the worker dies mid-send, so it is never sent a second time
    # (tests/notifications/test_worker.py shows it is then marked for a person to check); the report itself
    # is in the inbox exactly once.
    smtp = SmtpListener(hang_on_data=True).start()
    with celery_publishing_to(redis_url):
        worker = start_worker(broker_url=redis_url, workdir=tmp_path, smtp=smtp, env={"EMAIL_TIMEOUT": "30"})
        try:
            close(closable_case())
            # The inbox delivery commits first; the email is then held by the mail server.
            wait_for(
                lambda: reports().filter(status=Message.Status.DELIVERED).exists(),
                timeout=15,
                what="the inbox delivery",
            )
            wait_for(lambda: smtp.data_commands, timeout=15, what="the email to be sending")
            children = worker.pool_children()
            assert children, "the worker has no pool process to kill"
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda: "WorkerLostError" in worker.log(), timeout=30, what="the worker to be lost")
            smtp.release()
            wait_for(lambda: "succeeded" in worker.log(), timeout=30, what="the redelivered task")
            assert reports().count() == 1 and reports().get().status == Message.Status.DELIVERED
            assert smtp.data_commands == 1 and report_emails(worker) == []
        finally:
            worker.stop()
            smtp.stop()


def test_consent_to_feedback_given_after_the_close_sends_the_outcomes_through_the_worker(celery_worker):
    # The worker composes the report again when it delivers it (outcomes registers the composer when the
    # worker's Django starts): the first report, without consent, names no money; the second one does.
    case = closable_case()
    case.referral.consent.outcome_feedback = False
    case.referral.consent.save()
    close(case)
    first = wait_for(
        lambda: reports().filter(status=Message.Status.DELIVERED).first(), timeout=15, what="the first report"
    )
    assert "£2,600.00" not in first.body and "says only that the case has closed" in first.body
    referral_services.consent_scope_change(
        referral=case.referral,
        actor=case.referral.referrer,
        scope=ConsentScope.OUTCOME_FEEDBACK,
        given=True,
        method="phone",
        said_at=timezone.now(),
    )
    later = wait_for(
        lambda: reports().filter(status=Message.Status.DELIVERED).exclude(pk=first.pk).first(),
        timeout=15,
        what="the report with the outcomes",
    )
    assert "£2,600.00" in later.body
    assert reports().count() == 2
