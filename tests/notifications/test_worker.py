"""Delivery through a real Celery worker, real Redis (REDIS_URL) and real SMTP (Django's SMTP backend talking
to the test's own mail server on loopback). These fail, never skip, without them."""

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hjp.notifications.models import Delivery, Message
from hjp.notifications.services import email_message_id
from hjp.notifications.tasks import deliver_message, sweep_undelivered
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests import factories
from tests.support.celery_worker import PrivateRedis, celery_publishing_to, free_port, start_worker, wait_for
from tests.support.smtp_listener import SmtpListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def accept(referral):
    advisor = factories.advisor(referral.advice_organisation)
    referral_services.referral_transition(referral=referral, to_status=ReferralStatus.ACCEPTED, actor=advisor)


def delivered(referral_id):
    return Message.objects.filter(referral_id=referral_id, status=Message.Status.DELIVERED).exists()


def test_a_status_notice_reaches_the_referrers_inbox_within_seconds(celery_worker):
    worker = celery_worker
    referral = factories.ReferralFactory()
    started = time.monotonic()
    accept(referral)
    wait_for(lambda: delivered(referral.pk), timeout=15, what="the notice in the inbox")
    assert time.monotonic() - started < 15
    message = Message.objects.get(referral_id=referral.pk)
    assert message.recipient == referral.referrer
    wait_for(lambda: worker.emails(), timeout=10, what="the email")
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    wait_for(lambda: Delivery.objects.get(pk=email.pk).status == Delivery.Status.SENT, timeout=10, what="sent")
    [received] = worker.emails()
    assert received.to == [referral.referrer.email] and received.message_id == email_message_id(email.pk)


def test_a_task_run_twice_sends_one_message(celery_worker):
    worker = celery_worker
    referral = factories.ReferralFactory()
    accept(referral)
    message = wait_for(
        lambda: Message.objects.filter(referral_id=referral.pk, status="delivered").first(), timeout=15, what="delivery"
    )
    again = [deliver_message.delay(message.pk), deliver_message.delay(message.pk)]
    for task in again:
        assert "succeeded" in worker.wait_finished(task.id, timeout=15)
    worker.wait_idle()  # the first run too: no send is still in flight when we count
    assert Message.objects.filter(referral_id=referral.pk).count() == 1
    assert len(worker.emails()) == 1


def test_a_change_made_while_the_broker_is_down_is_delivered_once_it_is_back(tmp_path):
    broker = PrivateRedis(port=free_port())
    broker.start()
    with celery_publishing_to(broker.url):
        running = start_worker(broker_url=broker.url, workdir=tmp_path)
        try:
            broker.stop()
            referral = factories.ReferralFactory()
            accept(referral)  # the change itself succeeds
            referral.refresh_from_db()
            assert referral.status == ReferralStatus.ACCEPTED
            assert Message.objects.get(referral_id=referral.pk).status == Message.Status.PENDING

            broker.start()
            Message.objects.update(created_at=Message.objects.get().created_at - timedelta(minutes=5))
            sweep_undelivered.delay()
            wait_for(lambda: delivered(referral.pk), timeout=90, what="delivery after the broker came back")
            wait_for(lambda: running.emails(), timeout=30, what="the email")
            # A second sweep finds nothing left to hand over, and every task the worker got has finished, so
            # a late duplicate would already be in the counts below.
            second_sweep = sweep_undelivered.delay()
            assert running.wait_finished(second_sweep.id).endswith(": 0")
            running.wait_idle()
            assert Message.objects.filter(referral_id=referral.pk).count() == 1
            assert len(running.emails()) == 1
        finally:
            running.stop()
            broker.stop()


def kill_pool(worker):
    children = worker.pool_children()
    assert children, "the worker has no pool process to kill"
    for pid in children:
        os.kill(pid, signal.SIGKILL)


def email_delivery(referral):
    return Delivery.objects.get(message__referral_id=referral.pk, channel=Delivery.Channel.EMAIL)


# The worker marks an email "unknown" once it has been "sending" longer than EMAIL_TIMEOUT plus this margin.
FAST_UNKNOWN = {"EMAIL_TIMEOUT": "5", "NOTIFICATION_SENDING_MARGIN_SECONDS": "1"}


def test_a_worker_killed_while_the_mail_server_has_the_email_never_sends_it_twice(redis_url, tmp_path):
    """The crash window: the mail server has the whole email but the worker dies before the "250" and before
    "sent" commits. Before, the redelivered task sent it again (and the log said "sent, attempts 1"); SMTP
    cannot be exactly-once, so now the email is sent at most once and marked for a person to check."""
    smtp = SmtpListener(hold_data_reply=True).start()
    with celery_publishing_to(redis_url):
        worker = start_worker(broker_url=redis_url, workdir=tmp_path, smtp=smtp, env=FAST_UNKNOWN)
        try:
            referral = factories.ReferralFactory()
            accept(referral)
            wait_for(lambda: smtp.emails(), timeout=20, what="the mail server to have the email")
            kill_pool(worker)  # the "250" is still held back
            wait_for(lambda: "WorkerLostError" in worker.log(), timeout=20, what="the worker to be lost")
            smtp.release()
            # The task comes back (acks_late, reject_on_worker_lost) and runs again on the new pool process.
            wait_for(lambda: worker.log().count("succeeded") >= 1, timeout=30, what="the redelivered task")
            assert len(smtp.emails()) == 1  # the rerun did not send it again
            # Still `sending`, or already `unknown` when the rerun came more than EMAIL_TIMEOUT plus the margin
            # after the send (a loaded machine): never `sent` and never sent again.
            assert email_delivery(referral).status in (Delivery.Status.SENDING, Delivery.Status.UNKNOWN)
            wait_for(
                lambda: timezone.now() - email_delivery(referral).last_attempt_at > timedelta(seconds=7),
                timeout=15,
                what="the email timeout and margin to pass",
            )
            sweep_undelivered.delay()  # what beat runs every NOTIFICATION_SWEEP_SECONDS
            email = wait_for(
                lambda: (d := email_delivery(referral)).status == Delivery.Status.UNKNOWN and d,
                timeout=30,
                what="the email to be marked for a person to check",
            )
            for task in (sweep_undelivered.delay(), deliver_message.delay(email.message_id)):
                worker.wait_finished(task.id)
            worker.wait_idle()

            assert smtp.message_ids() == [email_message_id(email.pk)]  # one email, never a second
            email.refresh_from_db()
            assert email.status == Delivery.Status.UNKNOWN and email.attempts == 1 and email.sent_at is None
            assert "may or may not have gone" in email.last_error
            assert Message.objects.get(referral_id=referral.pk).status == Message.Status.DELIVERED
        finally:
            worker.stop()
            smtp.stop()


def test_a_worker_killed_before_the_email_left_does_not_resend_it_and_says_so(redis_url, tmp_path):
    """Killed while the mail server has not got the whole email yet. The worker cannot tell this from the
    window above, so (changed from "exactly one email" before) it sends nothing more and marks it unknown."""
    smtp = SmtpListener(hang_on_data=True).start()
    with celery_publishing_to(redis_url):
        worker = start_worker(broker_url=redis_url, workdir=tmp_path, smtp=smtp, env={"EMAIL_TIMEOUT": "30"})
        try:
            referral = factories.ReferralFactory()
            accept(referral)
            wait_for(lambda: smtp.data_commands, timeout=20, what="the worker to be sending")
            kill_pool(worker)
            wait_for(lambda: "WorkerLostError" in worker.log(), timeout=20, what="the worker to be lost")
            smtp.release()
            wait_for(lambda: worker.log().count("succeeded") >= 1, timeout=30, what="the redelivered task")
            email = email_delivery(referral)
            assert email.status == Delivery.Status.SENDING and email.attempts == 1
            assert smtp.emails() == [] and smtp.data_commands == 1  # not handed over a second time
        finally:
            worker.stop()
            smtp.stop()


def test_a_withdrawal_does_not_wait_for_a_hanging_mail_server(redis_url, tmp_path):
    """A mail server that never answers DATA: the worker is mid-send, yet a withdrawal of consent takes
    moments, and the email, which never went, is then cancelled rather than retried."""
    smtp = SmtpListener(hang_on_data=True).start()
    with celery_publishing_to(redis_url):
        worker = start_worker(broker_url=redis_url, workdir=tmp_path, smtp=smtp, env={"EMAIL_TIMEOUT": "8"})
        try:
            referral = factories.ReferralFactory()
            accept(referral)
            wait_for(lambda: smtp.data_commands, timeout=20, what="the worker to be sending")

            took = {}

            def withdraw():
                started = time.monotonic()
                try:
                    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
                finally:
                    took["seconds"] = time.monotonic() - started
                    connection.close()

            thread = threading.Thread(target=withdraw)
            thread.start()
            thread.join(timeout=60)
            assert not thread.is_alive() and took["seconds"] < 5, took

            # The send times out (EMAIL_TIMEOUT), counts as a failure, and its retry finds consent withdrawn.
            email = wait_for(
                lambda: (d := email_delivery(referral)).status == Delivery.Status.CANCELLED and d,
                timeout=60,
                what="the email to be cancelled",
            )
            assert email.attempts == 1 and "timed out" in email.last_error and smtp.emails() == []
            assert smtp.data_commands == 1
        finally:
            worker.stop()
            smtp.stop()
