"""Webhook notifications delivered by a real Celery worker (real Redis: REDIS_URL) to a real HTTP listener on
loopback, which checks each signature as a client would. These fail, never skip, without Redis."""

import re

import pytest

from api.fhir.subscriptions import Wanted, subscription_create
from api.models import Subscription, SubscriptionNotification
from casework.services.triage import referral_accept
from hjp.notifications.models import Delivery, Message
from hjp.notifications.tasks import deliver_message, sweep_undelivered
from tests import factories
from tests.api.conftest import register
from tests.support.celery_worker import celery_publishing_to, start_worker, wait_for
from tests.support.webhook_listener import WebhookListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# Three attempts, the first retry within a second (jitter: between 0 and 1 s, then 2 s).
FAST_RETRIES = {"NOTIFICATION_MAX_ATTEMPTS": "3", "NOTIFICATION_RETRY_BACKOFF_SECONDS": "1"}


@pytest.fixture
def listener():
    running = WebhookListener().start()
    yield running
    running.stop()


@pytest.fixture
def worker(redis_url, tmp_path):
    with celery_publishing_to(redis_url):
        running = start_worker(broker_url=redis_url, workdir=tmp_path, env=FAST_RETRIES)
        yield running
        running.stop()


@pytest.fixture
def followed(listener):
    """A submitted referral and its health organisation's client's subscription (full Task) to `listener`."""
    referral = factories.ReferralFactory()
    new_client = register(referral.referring_organisation)
    referral.referrer = new_client.client.service_user
    referral.save(update_fields=["referrer"])
    subscription, secret = subscription_create(
        client=new_client.client,
        actor=None,
        wanted=Wanted(endpoint=listener.url, content=Subscription.Content.FULL_RESOURCE, reason="", end=None),
    )
    return referral, subscription, secret


def accept(referral):
    referral_accept(referral=referral, actor=factories.advisor(referral.advice_organisation))


def webhook_deliveries():
    return Delivery.objects.filter(channel=Delivery.Channel.WEBHOOK).order_by("message_id")


def test_two_changes_reach_the_endpoint_signed_as_two_notifications(worker, listener, followed):
    referral, subscription, secret = followed
    accept(referral)  # the Task's status and its businessStatus: two changes
    received = wait_for(lambda: len(listener.received()) >= 2 and listener.received(), timeout=20, what="2 POSTs")
    assert all(item.signed_with(secret) for item in received)
    assert not any(item.signed_with(secret + "x") for item in received)
    assert len({item.headers["hjp-event-id"] for item in received}) == 2
    numbers = sorted(
        part["valueString"]
        for item in received
        for parameter in item.json()["entry"][0]["resource"]["parameter"]
        if parameter["name"] == "notification-event"
        for part in parameter["part"]
        if part["name"] == "event-number"
    )
    assert numbers == ["1", "2"]
    wait_for(lambda: set(webhook_deliveries().values_list("status", flat=True)) == {"sent"}, timeout=10, what="sent")
    worker.wait_idle()
    assert len(listener.received()) == 2


def test_a_task_run_again_after_the_notification_went_sends_nothing_more(worker, listener, followed):
    referral, _, _ = followed
    accept(referral)
    wait_for(lambda: set(webhook_deliveries().values_list("status", flat=True)) == {"sent"}, timeout=20, what="sent")
    again = [deliver_message.delay(message.pk) for message in Message.objects.filter(kind="webhook") for _ in (1, 2)]
    for task in again:
        assert "succeeded" in worker.wait_finished(task.id, timeout=15)
    sweep = sweep_undelivered.delay()
    assert worker.wait_finished(sweep.id).endswith(": 0")
    worker.wait_idle()
    assert len(listener.received()) == 2
    assert list(webhook_deliveries().values_list("attempts", flat=True)) == [1, 1]


def test_a_failing_endpoint_is_retried_until_it_answers(worker, listener, followed):
    referral, subscription, secret = followed
    listener.next_statuses = [503, 500]
    accept_status_only(referral, subscription)
    wait_for(lambda: webhook_deliveries().filter(status="sent").exists(), timeout=30, what="the third attempt")
    received = listener.received()
    assert listener.answered() == [503, 500, 200]
    assert len({item.headers["hjp-event-id"] for item in received}) == 1  # one change, sent three times
    assert received[0].body != b"" and all(item.signed_with(secret) for item in received)
    assert webhook_deliveries().get().attempts == 3
    assert "Webhook notification" in worker.log() and "failed (attempt 2): HTTP 500" in worker.log()


def test_an_endpoint_that_keeps_failing_is_given_up_with_its_status_logged(worker, listener, followed):
    referral, subscription, _ = followed
    listener.status = 500
    accept_status_only(referral, subscription)
    wait_for(lambda: "given up after 3 attempts" in worker.log(), timeout=30, what="the retries to give up")
    worker.wait_idle()
    delivery = webhook_deliveries().get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert re.search(r"ERROR.*Webhook notification [0-9a-f-]{36} given up after 3 attempts: HTTP 500", worker.log())
    # The sweep does not take it up again: a person may resend it from the delivery log.
    sweep = sweep_undelivered.delay()
    assert worker.wait_finished(sweep.id).endswith(": 0")
    assert len(listener.received()) == 3


def accept_status_only(referral, subscription):
    """Accept the referral, then keep only the notification of its first change (the status), so the test
    follows one notification."""
    from django.db import transaction

    with transaction.atomic():
        accept(referral)
        first, *others = SubscriptionNotification.objects.filter(subscription=subscription).order_by("event_number")
        Message.objects.filter(pk__in=[o.message_id for o in others]).delete()
