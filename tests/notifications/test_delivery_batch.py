"""A delivery takes along the messages waiting in the outbox (up to NOTIFICATION_DELIVERY_BATCH, its own
first): one commit and one connection to the mail server for the batch, with every guarantee of one message
kept (each email claimed before it leaves; an email that was never handed over is not counted as an attempt)."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction

from hjp.notifications import services
from hjp.notifications.models import Delivery, Message, MessageKind
from tests import factories
from tests.support.celery_worker import celery_publishing_to, free_port
from tests.support.smtp_listener import SmtpListener


def waiting(users) -> list[Message]:
    """Messages in the outbox that no task has delivered yet (their tasks are still queued)."""
    with transaction.atomic():
        return [
            services.message_queue(
                recipient=user, kind=MessageKind.STATUS_NOTICE, key=f"k{user.pk}", subject="Accepted", body="R1"
            )
            for user in users
        ]


def statuses(message):
    return dict(message.deliveries.values_list("channel", "status"))


@pytest.mark.django_db
def test_one_delivery_takes_the_waiting_messages_along_in_the_same_number_of_queries(
    django_capture_on_commit_callbacks, django_assert_num_queries, settings
):
    settings.NOTIFICATION_DELIVERY_BATCH = 10
    # A batch that goes within this time does not look again for stopped messages (see the test below).
    settings.NOTIFICATION_STOP_RECHECK_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=False):  # the broker has not handed the tasks out yet
        few = waiting(factories.UserFactory.create_batch(2))
    with django_assert_num_queries(13):
        services.message_deliver(message_id=few[0].pk)
    with django_capture_on_commit_callbacks(execute=False):
        many = waiting(factories.UserFactory.create_batch(6))
    with django_assert_num_queries(13):
        services.message_deliver(message_id=many[0].pk)

    for message in few + many:
        assert statuses(message) == {"inbox": "sent", "email": "sent"}
    assert sorted(email.to[0] for email in mail.outbox) == sorted(m.recipient.email for m in few + many)
    assert len({email.extra_headers["Message-ID"] for email in mail.outbox}) == 8
    with django_assert_num_queries(1):  # their own tasks, when they come, find nothing left to do
        services.message_deliver(message_id=many[-1].pk)
    assert len(mail.outbox) == 8


@pytest.mark.django_db
def test_the_tasks_of_messages_that_went_in_this_process_s_batch_end_without_a_query(
    django_capture_on_commit_callbacks, django_assert_num_queries, settings
):
    """A worker process remembers the messages it settled (once committed); another process reads them."""
    settings.NOTIFICATION_STOP_RECHECK_SECONDS = 60
    with django_capture_on_commit_callbacks(execute=False):
        messages = waiting(factories.UserFactory.create_batch(3))
    with django_capture_on_commit_callbacks(execute=True):  # the batch's commits, as in a worker
        services.message_deliver(message_id=messages[0].pk)
    with django_assert_num_queries(0):
        for message in messages:
            services.message_deliver(message_id=message.pk)
    services.forget_settled()  # another worker process
    with django_assert_num_queries(1):
        services.message_deliver(message_id=messages[1].pk)
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_batch_is_as_large_as_the_setting(django_capture_on_commit_callbacks, settings):
    settings.NOTIFICATION_DELIVERY_BATCH = 3
    with django_capture_on_commit_callbacks(execute=False):
        messages = waiting(factories.UserFactory.create_batch(5))
    services.message_deliver(message_id=messages[4].pk)
    delivered = Message.objects.filter(status=Message.Status.DELIVERED).order_by("pk")
    assert list(delivered) == [messages[0], messages[1], messages[4]]  # its own, then the oldest waiting


@pytest.mark.django_db
def test_a_digest_goes_alone_and_takes_no_waiting_message_along(django_capture_on_commit_callbacks):
    """A digest is composed under its row lock: no other message waits behind it."""
    with django_capture_on_commit_callbacks(execute=False):
        others = waiting(factories.UserFactory.create_batch(2))
        with transaction.atomic():
            digest = services.message_queue(
                recipient=factories.UserFactory(), kind=MessageKind.DIGEST, key="d1", subject="Digest", body="..."
            )
    services.message_deliver(message_id=digest.pk)
    delivered = Message.objects.filter(status=Message.Status.DELIVERED)
    assert list(delivered) == [digest]
    assert all(statuses(message) == {"inbox": "pending", "email": "pending"} for message in others)


@pytest.mark.django_db
def test_an_email_refused_mid_batch_fails_alone_and_the_ones_after_it_are_given_back(
    django_capture_on_commit_callbacks, settings
):
    own_user, refused_user, after_user = factories.UserFactory.create_batch(3)
    smtp = SmtpListener(refuse=frozenset({refused_user.email})).start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp.port, "use_tls": False, "timeout": 5},
        }
    }
    try:
        with django_capture_on_commit_callbacks(execute=False):
            own, refused, after = waiting([own_user, refused_user, after_user])
        with django_capture_on_commit_callbacks(execute=True):  # what the worker remembers as settled, too
            services.message_deliver(message_id=own.pk)  # its own email went: the task does not retry
        assert smtp.message_ids() == [services.email_message_id(own.deliveries.get(channel="email").pk)]

        refused_email = refused.deliveries.get(channel=Delivery.Channel.EMAIL)
        assert refused_email.status == Delivery.Status.FAILED and refused_email.attempts == 1
        assert "SMTPRecipientsRefused" in refused_email.last_error
        after_email = after.deliveries.get(channel=Delivery.Channel.EMAIL)
        assert (after_email.status, after_email.attempts, after_email.last_attempt_at) == ("pending", 0, None)
        for message in (own, refused, after):
            assert statuses(message)["inbox"] == "sent"

        services.message_deliver(message_id=after.pk)  # its own task, later (its email was not remembered as sent)
        after_email.refresh_from_db()
        assert after_email.status == Delivery.Status.SENT and after_email.attempts == 1
        with pytest.raises(services.DeliveryFailed):  # the refused one's own task retries, with backoff
            services.message_deliver(message_id=refused.pk)
        refused_email.refresh_from_db()
        assert refused_email.status == Delivery.Status.FAILED and refused_email.attempts == 2
        assert len(smtp.emails()) == 2
    finally:
        smtp.stop()


@pytest.mark.django_db(transaction=True)
def test_consent_withdrawn_while_a_batch_is_going_stops_its_emails_not_yet_handed_over(settings):
    """An email claimed in a batch may wait behind others at the mail server; a withdrawal of consent committed
    meanwhile still stops it (given back uncounted, then cancelled), while the batch's other emails go."""
    own_user, withdrawn_user, other_user = factories.UserFactory.create_batch(3)
    referral = factories.ReferralFactory()
    smtp = SmtpListener(hold_data_reply=True).start()  # the first email's hand-over waits until released
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp.port, "use_tls": False, "timeout": 10},
        }
    }
    # The broker is down as they are queued: they wait in the outbox, and the first one's task takes the others.
    with celery_publishing_to(f"redis://127.0.0.1:{free_port()}/0"), transaction.atomic():
        own = services.message_queue(
            recipient=own_user, kind=MessageKind.STATUS_NOTICE, key="own", subject="Accepted", body="R1"
        )
        withdrawn = services.message_queue(
            recipient=withdrawn_user,
            kind=MessageKind.STATUS_NOTICE,
            key="withdrawn",
            subject="Accepted",
            body="R2",
            referral_id=referral.pk,
        )
        other = services.message_queue(
            recipient=other_user, kind=MessageKind.STATUS_NOTICE, key="other", subject="Accepted", body="R3"
        )
    outcome = {}

    def worker():
        try:
            services.message_deliver(message_id=own.pk)
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    try:
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 10
        while not smtp.emails():  # the mail server has the first email; the other two are claimed and waiting
            assert time.monotonic() < deadline, "the first email never reached the mail server"
            time.sleep(0.05)
        assert statuses(withdrawn)["email"] == Delivery.Status.SENDING
        services.messages_stop_for_referrals(referral_ids=[referral.pk])  # the withdrawal's part in the outbox
        smtp.release()
        thread.join(15)
    finally:
        smtp.stop()

    assert not thread.is_alive() and "error" not in outcome
    assert sorted(email.to[0] for email in smtp.emails()) == sorted([own_user.email, other_user.email])
    stopped = withdrawn.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert (stopped.status, stopped.attempts) == (Delivery.Status.CANCELLED, 0)
    assert statuses(own)["email"] == statuses(other)["email"] == Delivery.Status.SENT


@pytest.mark.django_db
def test_a_worker_remembers_only_what_committed_and_at_most_the_newest_settled_memory(
    django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "SETTLED_MEMORY", 3)
    with django_capture_on_commit_callbacks(execute=False):  # rolled back: nothing remembered
        services._remember_settled([1, 2])
    assert list(services._settled) == []
    with django_capture_on_commit_callbacks(execute=True):
        services._remember_settled([1, 2, 3])
        services._remember_settled([4, 5])
    assert list(services._settled) == [3, 4, 5]
