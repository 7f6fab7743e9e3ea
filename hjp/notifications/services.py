"""The outbox: messages are written in the transaction of the change they report, then delivered by Celery.

Delivery is idempotent: a message is unique by its key, each channel's delivery row is locked while it is
sent, and a delivery already sent or cancelled is never sent again. When the broker cannot be reached, the
message waits in the outbox and the periodic sweep delivers it."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from hjp.notifications.models import Delivery, Message

logger = logging.getLogger(__name__)

REDACTED_BODY = "This message was removed because the patient withdrew their consent."


def message_queue(
    *, recipient, kind: str, key: str, subject: str, body: str, url: str = "", referral_id: int | None = None
) -> Message:
    """Put a message in the outbox, once per key, and deliver it after the surrounding transaction commits."""
    message, created = Message.objects.get_or_create(
        key=key,
        defaults={
            "recipient": recipient,
            "kind": kind,
            "subject": subject[:200],
            "body": body,
            "url": url,
            "referral_id": referral_id,
        },
    )
    if created:
        Delivery.objects.create(message=message, channel=Delivery.Channel.INBOX)
        if recipient.email and recipient.is_active:
            Delivery.objects.create(message=message, channel=Delivery.Channel.EMAIL)
        transaction.on_commit(lambda: enqueue_delivery(message.pk), robust=True)
    return message


def enqueue_delivery(message_id: int) -> bool:
    """Hand the message to Celery. If the broker is down, the message stays pending for the sweep."""
    from hjp.notifications.tasks import deliver_message

    try:
        deliver_message.delay(message_id)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep retries
        logger.warning("Could not enqueue message %s; the periodic sweep will deliver it.", message_id, exc_info=True)
        return False
    return True


def message_deliver(*, message_id: int) -> None:
    """Deliver every channel of a message that is not yet sent. Raises when email fails, so the task retries."""
    _deliver_inbox(message_id)
    email = Delivery.objects.filter(message_id=message_id, channel=Delivery.Channel.EMAIL).first()
    if email is not None:
        _deliver_email(email.pk)


@transaction.atomic
def _deliver_inbox(message_id: int) -> None:
    message = Message.objects.select_for_update().filter(pk=message_id).first()
    if message is None or message.status != Message.Status.PENDING:
        return
    now = timezone.now()
    message.status = Message.Status.DELIVERED
    message.delivered_at = now
    message.save(update_fields=["status", "delivered_at"])
    Delivery.objects.filter(message=message, channel=Delivery.Channel.INBOX).update(
        status=Delivery.Status.SENT, attempts=1, sent_at=now, last_attempt_at=now
    )


def _deliver_email(delivery_id: int) -> None:
    # The row stays locked while the email is handed to the mail server, so a second copy of the task
    # (a retry, a redelivery after a lost worker) waits and then finds it sent.
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).select_related("message__recipient").get(pk=delivery_id)
        if delivery.status in (Delivery.Status.SENT, Delivery.Status.CANCELLED):
            return
        message = delivery.message
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        try:
            send_mail(
                subject="hjp: you have a new message",
                message=email_body(message),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[message.recipient.email],
            )
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            failed = True
        else:
            failed = False
        if failed:
            delivery.status = Delivery.Status.FAILED
            delivery.last_error = error
        else:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save()
    if failed:
        raise DeliveryFailed(error)


class DeliveryFailed(Exception):
    """An email could not be sent; the task retries with backoff."""


def email_body(message: Message) -> str:
    """What an email says: that there is a message, and a link to sign in. Never any patient details."""
    return (
        f"You have a new message in hjp ({message.get_kind_display().lower()}).\n\n"
        f"For the patient's privacy the message itself is only in hjp. Sign in to read it:\n"
        f"{settings.SITE_URL}{reverse('notifications:inbox')}\n"
    )


@transaction.atomic
def messages_stop_for_referral(*, referral_id: int) -> int:
    """A withdrawal of consent: cancel every message about the patient not yet sent, and remove the content
    of those already delivered. Returns how many were cancelled."""
    messages = Message.objects.filter(referral_id=referral_id)
    cancelled = messages.filter(status=Message.Status.PENDING).update(status=Message.Status.CANCELLED)
    Delivery.objects.filter(message__referral_id=referral_id).exclude(status=Delivery.Status.SENT).update(
        status=Delivery.Status.CANCELLED
    )
    messages.update(body=REDACTED_BODY)
    return cancelled


def messages_sweep(*, older_than: timedelta | None = None, max_attempts: int | None = None) -> int:
    """Re-enqueue what was not delivered: pending messages, and emails that failed fewer than max_attempts
    times. Run by Celery beat. Returns how many messages were handed to Celery."""
    older_than = older_than if older_than is not None else timedelta(seconds=settings.NOTIFICATION_SWEEP_GRACE_SECONDS)
    max_attempts = max_attempts or settings.NOTIFICATION_MAX_ATTEMPTS
    cutoff = timezone.now() - older_than
    ids = set(
        Message.objects.filter(status=Message.Status.PENDING, created_at__lte=cutoff).values_list("pk", flat=True)
    )
    ids |= set(
        Delivery.objects.filter(
            Q(status=Delivery.Status.FAILED) | Q(status=Delivery.Status.PENDING, message__status=Message.Status.DELIVERED),
            attempts__lt=max_attempts,
            message__created_at__lte=cutoff,
        ).values_list("message_id", flat=True)
    )
    return sum(enqueue_delivery(pk) for pk in sorted(ids))


@transaction.atomic
def message_mark_read(*, message: Message, user) -> None:
    if message.recipient_id == user.pk and message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])


@transaction.atomic
def messages_mark_all_read(*, user) -> int:
    return Message.objects.filter(recipient=user, status=Message.Status.DELIVERED, read_at__isnull=True).update(
        read_at=timezone.now()
    )
