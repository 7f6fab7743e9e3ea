"""Email delivery states: `sending` before the hand-over, `unknown` for a person to check, a stable Message-ID,
truthful attempts, the admin actions, and a withdrawal of consent racing a worker."""

import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.notifications import services
from hjp.notifications.models import Delivery, Message, MessageKind
from referrals import services as referral_services
from tests import factories


def queue(user, key="k1", referral_id=None):
    return services.message_queue(
        recipient=user,
        kind=MessageKind.STATUS_NOTICE,
        key=key,
        subject="Referral R1 accepted",
        body="Maria Kowalski's referral was accepted.",
        url="/referrals/1/",
        referral_id=referral_id,
    )


def left_sending(message, *, seconds_ago):
    """What a worker killed while the mail server had the email leaves behind."""
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    email.status, email.attempts, email.sent_at = Delivery.Status.SENDING, 1, None
    email.last_attempt_at = timezone.now() - timedelta(seconds=seconds_ago)
    email.save()
    return email


def undelivered(user, key="k1", referral_id=None):
    """A message in the outbox that no worker has touched yet."""
    with transaction.atomic():
        message = queue(user, key=key, referral_id=referral_id)
    return message


@pytest.mark.django_db
def test_every_email_carries_a_message_id_of_its_delivery(django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://hjp.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(factories.UserFactory())
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    [sent] = mail.outbox
    assert sent.message()["Message-ID"] == f"<delivery-{email.pk}.hjp@hjp.example.org>"
    assert email.status == Delivery.Status.SENT and email.attempts == 1


@pytest.mark.django_db
def test_an_email_left_sending_is_not_sent_again_but_marked_for_a_person_once_its_time_is_up(settings):
    settings.NOTIFICATION_EMAIL_TIMEOUT_SECONDS, settings.NOTIFICATION_SENDING_MARGIN_SECONDS = 10, 50
    message = undelivered(factories.UserFactory())
    services.message_deliver(message_id=message.pk)  # inbox and email both go
    mail.outbox.clear()
    email = left_sending(message, seconds_ago=30)  # a redelivery within the email timeout plus the margin

    services.message_deliver(message_id=message.pk)
    assert services.messages_sweep(older_than=timedelta(0)) == 0
    email.refresh_from_db()
    assert email.status == Delivery.Status.SENDING and mail.outbox == []

    Delivery.objects.filter(pk=email.pk).update(last_attempt_at=timezone.now() - timedelta(seconds=61))
    assert services.messages_sweep(older_than=timedelta(0)) == 0
    services.message_deliver(message_id=message.pk)
    email.refresh_from_db()
    assert email.status == Delivery.Status.UNKNOWN and email.attempts == 1 and email.sent_at is None
    assert "Message-ID" in email.last_error and mail.outbox == []


@pytest.mark.django_db
def test_a_redelivered_task_marks_a_stale_sending_email_unknown_itself(settings):
    settings.NOTIFICATION_EMAIL_TIMEOUT_SECONDS, settings.NOTIFICATION_SENDING_MARGIN_SECONDS = 10, 50
    message = undelivered(factories.UserFactory())
    services.message_deliver(message_id=message.pk)
    mail.outbox.clear()
    email = left_sending(message, seconds_ago=61)
    services.message_deliver(message_id=message.pk)
    email.refresh_from_db()
    assert email.status == Delivery.Status.UNKNOWN and mail.outbox == []


@pytest.mark.django_db
def test_the_admin_lists_unknown_emails_and_lets_a_person_resend_or_mark_them_sent(client, settings):
    settings.NOTIFICATION_EMAIL_TIMEOUT_SECONDS, settings.NOTIFICATION_SENDING_MARGIN_SECONDS = 10, 50
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    went, did_not = undelivered(factories.UserFactory(), key="went"), undelivered(factories.UserFactory(), key="not")
    for message in (went, did_not):
        services.message_deliver(message_id=message.pk)
    mail.outbox.clear()
    went_email, lost_email = left_sending(went, seconds_ago=120), left_sending(did_not, seconds_ago=120)
    services.messages_sweep(older_than=timedelta(0))
    client.force_login(admin)

    changelist = reverse("admin:notifications_delivery_changelist")
    page = client.get(changelist, {"status__exact": "unknown"})
    assert list(page.context["cl"].result_list) == [lost_email, went_email]
    assert "Unknown: needs checking" in page.content.decode()
    assert escape(services.email_message_id(lost_email.pk)) in page.content.decode()
    messages_page = client.get(
        reverse("admin:notifications_message_changelist"), {"deliveries__status__exact": "unknown"}
    )
    assert set(messages_page.context["cl"].result_list) == {went, did_not}

    client.post(changelist, {"action": "mark_sent_after_checking", "_selected_action": [went_email.pk]})
    response = client.post(
        changelist, {"action": "resend_after_checking", "_selected_action": [lost_email.pk, went_email.pk]}, follow=True
    )
    assert "1 of 2 resent." in response.content.decode()
    went_email.refresh_from_db()
    assert went_email.status == Delivery.Status.SENT and went_email.sent_at == went_email.last_attempt_at
    lost_email.refresh_from_db()
    assert lost_email.status == Delivery.Status.PENDING  # the sweep (or the enqueued task) sends it
    services.message_deliver(message_id=did_not.pk)
    lost_email.refresh_from_db()
    assert lost_email.status == Delivery.Status.SENT and lost_email.attempts == 2
    [resent] = mail.outbox
    assert resent.message()["Message-ID"] == services.email_message_id(lost_email.pk)
    assert AuditEvent.objects.filter(actor=admin, summary__contains="after checking").count() == 2


@pytest.mark.django_db
def test_an_email_that_failed_before_a_withdrawal_is_cancelled_not_retried():
    referral = factories.ReferralFactory()
    message = undelivered(referral.referrer, referral_id=referral.pk)
    services.message_deliver(message_id=message.pk)
    mail.outbox.clear()
    email = left_sending(message, seconds_ago=1)  # a worker is talking to the mail server
    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
    email.refresh_from_db()
    assert email.status == Delivery.Status.SENDING  # a withdrawal leaves an email being sent as it is
    Delivery.objects.filter(pk=email.pk).update(status=Delivery.Status.FAILED)  # then the mail server failed
    services.message_deliver(message_id=message.pk)  # the retry
    email.refresh_from_db()
    assert email.status == Delivery.Status.CANCELLED and email.attempts == 1 and mail.outbox == []


def in_thread(target):
    result = {}

    def run():
        try:
            result["value"] = target()
        except Exception as exc:
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def waiting_on_a_lock(*, timeout: float) -> None:
    """Wait until another connection to this database is blocked on a row lock (PostgreSQL says so)."""

    def blocked() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    deadline = time.monotonic() + timeout
    while not blocked():
        assert time.monotonic() < deadline, "nothing waited on the lock"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_waiting_on_a_worker_that_marks_the_email_sent_leaves_it_sent():
    """The worker holds the delivery row while it records the send; the withdrawal arrives meanwhile. Before,
    its bulk UPDATE chose its rows before waiting and then relabelled the sent email "cancelled"."""
    referral = factories.ReferralFactory()
    message = undelivered(referral.referrer, referral_id=referral.pk)
    services.message_deliver(message_id=message.pk)
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    Delivery.objects.filter(pk=email.pk).update(status=Delivery.Status.FAILED, sent_at=None)  # due for a retry
    locked, finish = threading.Event(), threading.Event()

    def worker_marks_sent():
        with transaction.atomic():
            Delivery.objects.select_for_update().get(pk=email.pk)
            locked.set()
            finish.wait(10)
            waiting_on_a_lock(timeout=10)  # the withdrawal is waiting on this row now, not just probably
            Delivery.objects.filter(pk=email.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now())

    worker, worker_result = in_thread(worker_marks_sent)
    assert locked.wait(10)
    finish.set()
    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
    worker.join(15)
    assert "error" not in worker_result
    email.refresh_from_db()
    assert email.status == Delivery.Status.SENT
    message.refresh_from_db()
    assert message.body == services.REDACTED_BODY and message.stopped_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_that_cannot_get_the_rows_fails_clearly_within_seconds():
    referral = factories.ReferralFactory()
    message = undelivered(referral.referrer, referral_id=referral.pk)
    locked, release = threading.Event(), threading.Event()

    def hold_the_message():
        with transaction.atomic():
            Message.objects.select_for_update().get(pk=message.pk)
            locked.set()
            release.wait(30)

    holder, _ = in_thread(hold_the_message)
    assert locked.wait(10)
    started = time.monotonic()
    try:
        with pytest.raises(DomainError, match="try again"):
            referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
        assert time.monotonic() - started < 6
    finally:
        release.set()
        holder.join(10)
    referral.consent.refresh_from_db()
    assert referral.consent.withdrawn_at is None  # nothing half done: the person can simply try again


@pytest.mark.django_db
def test_the_delivery_log_takes_the_same_queries_for_few_and_many_rows(client, django_assert_num_queries):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:notifications_delivery_changelist")

    def rows(count):
        for number in range(count):
            undelivered(factories.UserFactory(), key=f"k{Message.objects.count()}-{number}")
        return Delivery.objects.count()

    assert rows(1) == 2
    with django_assert_num_queries(6):
        assert client.get(changelist, {"status__exact": "pending"}).status_code == 200
    assert rows(5) == 12
    with django_assert_num_queries(6):
        response = client.get(changelist, {"status__exact": "pending"})
    assert len(response.context["cl"].result_list) == 12
