from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from hjp.notifications import services
from hjp.notifications.models import Delivery, Message, MessageKind
from referrals import services as referral_services
from referrals.models import ReferralStatus
from tests import factories
from tests.support.celery_worker import free_port


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


@pytest.mark.django_db
def test_a_message_is_delivered_to_the_inbox_and_by_email_after_commit(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(user)
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert [d.status for d in message.deliveries.order_by("channel")] == ["sent", "sent"]
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [user.email]
    assert "Maria" not in email.body + email.subject and "Kowalski" not in email.body
    assert reverse("notifications:inbox") in email.body


@pytest.mark.django_db
def test_a_rolled_back_transaction_sends_nothing(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue(user)
            raise RuntimeError("the change being reported failed")
    assert callbacks == [] and not Message.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_queueing_or_delivering_twice_sends_once(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(user)
        second = queue(user)
    assert first.pk == second.pk
    services.message_deliver(message_id=first.pk)
    services.message_deliver(message_id=first.pk)
    assert Message.objects.count() == 1 and len(mail.outbox) == 1


def smtp_nobody_listens_on(port):
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
        }
    }


@pytest.mark.django_db
def test_a_failed_email_is_logged_and_retried_by_the_sweep(django_capture_on_commit_callbacks, settings):
    user = factories.UserFactory()
    locmem = settings.MAILERS
    settings.MAILERS = smtp_nobody_listens_on(free_port())
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(user)
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert email.status == Delivery.Status.FAILED and email.attempts == 1 and "ConnectionRefused" in email.last_error
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED  # the inbox does not wait for email

    settings.MAILERS = locmem
    assert services.messages_sweep(older_than=timedelta(0)) == 1
    email.refresh_from_db()
    assert email.status == Delivery.Status.SENT and email.last_error == "" and len(mail.outbox) == 1
    assert email.attempts == 2  # each hand-over to the mail server counts one


@pytest.mark.django_db
def test_once_the_retries_give_up_no_late_retry_sends_it_but_a_person_s_resend_does(
    django_capture_on_commit_callbacks, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    user, admin = factories.UserFactory(), factories.UserFactory(is_staff=True)
    locmem = settings.MAILERS
    settings.MAILERS = smtp_nobody_listens_on(free_port())
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(user)
    services.messages_sweep(older_than=timedelta(0))
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert email.status == Delivery.Status.FAILED and email.attempts == 2

    settings.MAILERS = locmem  # the mail server is back; a retry still waiting out its backoff now runs
    services.message_deliver(message_id=message.pk)
    assert services.messages_sweep(older_than=timedelta(0)) == 0
    email.refresh_from_db()
    assert email.status == Delivery.Status.FAILED and email.attempts == 2 and mail.outbox == []

    with mock.patch("hjp.notifications.tasks.deliver_message.delay", side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.delivery_resend(delivery=email, actor=admin)
    assert services.messages_sweep(older_than=timedelta(0)) == 1  # the broker was down: the sweep takes it
    email.refresh_from_db()
    assert email.status == Delivery.Status.SENT and email.attempts == 3 and len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_email_to_someone_with_no_address_is_cancelled_not_marked_unknown(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with mock.patch("hjp.notifications.tasks.deliver_message.delay"):
        with django_capture_on_commit_callbacks(execute=True):
            message = queue(user)
    user.is_active = False  # left the service before the email went
    user.save()
    services.message_deliver(message_id=message.pk)
    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert email.status == Delivery.Status.CANCELLED and email.attempts == 0 and mail.outbox == []
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED  # still in their inbox, should they come back


@pytest.mark.django_db
def test_when_the_broker_is_down_the_message_waits_and_the_sweep_delivers_it(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with mock.patch("hjp.notifications.tasks.deliver_message.delay", side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            message = queue(user)
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING
    services.messages_sweep(older_than=timedelta(0))
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED and len(mail.outbox) == 1


@pytest.mark.django_db
def test_accept_decline_and_redirect_send_status_notices_to_the_referrer(django_capture_on_commit_callbacks):
    for to_status, words in [
        (ReferralStatus.ACCEPTED, "accepted"),
        (ReferralStatus.DECLINED, "declined"),
        (ReferralStatus.REDIRECTED, "passed on"),
    ]:
        referral = factories.ReferralFactory(patient__given_name="Maria", patient__family_name="Kowalski")
        advisor = factories.advisor(referral.advice_organisation)
        with django_capture_on_commit_callbacks(execute=True):
            referral_services.referral_transition(
                referral=referral, to_status=to_status, actor=advisor, reason="Out of our area"
            )
        message = Message.objects.get(referral_id=referral.pk)
        assert message.recipient == referral.referrer and words in message.subject
        assert "M.K." in message.body and "Kowalski" not in message.body
        if to_status != ReferralStatus.ACCEPTED:
            assert "Out of our area" in message.body


@pytest.mark.django_db
def test_consent_withdrawal_stops_messages_not_yet_sent(django_capture_on_commit_callbacks):
    referral = factories.ReferralFactory()
    with django_capture_on_commit_callbacks(execute=True):
        delivered = queue(referral.referrer, key="delivered", referral_id=referral.pk)
    # Queued after: a delivery takes along the messages waiting in the outbox (test_delivery_batch.py).
    with mock.patch("hjp.notifications.tasks.deliver_message.delay", side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            pending = queue(referral.referrer, key="pending", referral_id=referral.pk)
    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
    services.messages_sweep(older_than=timedelta(0))
    pending.refresh_from_db()
    delivered.refresh_from_db()
    assert pending.status == Message.Status.CANCELLED
    assert set(pending.deliveries.values_list("status", flat=True)) == {Delivery.Status.CANCELLED}
    assert delivered.body == services.REDACTED_BODY
    assert len(mail.outbox) == 1  # only the one sent before the withdrawal


@pytest.mark.django_db
def test_the_inbox_shows_own_messages_with_an_unread_count_and_marks_them_read(
    client, django_capture_on_commit_callbacks
):
    user, other = factories.referrer(), factories.referrer()
    with django_capture_on_commit_callbacks(execute=True):
        mine = queue(user, key="mine")
        theirs = queue(other, key="theirs")
    client.force_login(user)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert "Referral R1 accepted" in html and '1<span class="visually-hidden"> unread' in html
    assert client.get(reverse("notifications:detail", args=[theirs.pk])).status_code == 404
    page = client.get(reverse("notifications:detail", args=[mine.pk]))
    assert "Maria Kowalski" in page.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert "unread" not in client.get(reverse("notifications:inbox")).content.decode()
