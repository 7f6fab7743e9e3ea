"""Delivery through a real Celery worker and real Redis (REDIS_URL). These fail, never skip, without them."""

import os
from datetime import timedelta
import signal
import time

import pytest

from hjp.notifications.models import Delivery, Message
from hjp.notifications.tasks import deliver_message, sweep_undelivered
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests import factories
from tests.support.celery_worker import PrivateRedis, celery_publishing_to, free_port, start_worker, wait_for

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
    assert message.deliveries.get(channel=Delivery.Channel.EMAIL).status == Delivery.Status.SENT


def test_a_task_run_twice_sends_one_message(celery_worker):
    worker = celery_worker
    referral = factories.ReferralFactory()
    accept(referral)
    message = wait_for(lambda: Message.objects.filter(referral_id=referral.pk, status="delivered").first(),
                       timeout=15, what="delivery")
    deliver_message.delay(message.pk)
    deliver_message.delay(message.pk)
    wait_for(lambda: worker.log().count("succeeded") >= 3, timeout=15, what="three task runs")
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
            sweep_undelivered.delay()
            time.sleep(2)
            assert Message.objects.filter(referral_id=referral.pk).count() == 1
            assert len(running.emails()) == 1
        finally:
            running.stop()
            broker.stop()


def test_a_worker_killed_while_sending_still_ends_with_exactly_one(redis_url, tmp_path):
    with celery_publishing_to(redis_url):
        running = start_worker(broker_url=redis_url, workdir=tmp_path, email_delay=4)
        try:
            referral = factories.ReferralFactory()
            accept(referral)
            # The inbox delivery commits first; the email is then held in the slow mail backend.
            wait_for(lambda: delivered(referral.pk), timeout=15, what="the inbox delivery")
            time.sleep(1)
            children = running.pool_children()
            assert children, "the worker has no pool process to kill"
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            wait_for(lambda: running.emails(), timeout=60, what="the email after the worker was killed")
            time.sleep(2)
            assert "WorkerLostError" in running.log()  # the first run really died mid-send
            assert Message.objects.filter(referral_id=referral.pk).count() == 1
            assert len(running.emails()) == 1
            email = Delivery.objects.get(message__referral_id=referral.pk, channel=Delivery.Channel.EMAIL)
            assert email.status == Delivery.Status.SENT
        finally:
            running.stop()
