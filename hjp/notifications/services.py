"""The outbox: messages are written in the transaction of the change they report, then delivered by Celery.

The inbox is delivered exactly once: a message is unique by its key and its row is locked while it is marked
delivered. Email cannot be exactly-once (a worker may die after the mail server accepted an email and before
that was recorded), so it is at most once: each attempt is committed as `sending` before the email is handed
to the mail server, no row lock is held while SMTP talks, and an email left `sending` is never sent again
automatically but marked `unknown` for a person to check once older than the email timeout plus a margin.
Every email carries a Message-ID derived from its delivery, so a copy a person resends is recognisable.
When the broker cannot be reached, the message waits in the outbox and the periodic sweep delivers it."""

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import OperationalError, connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason, message_body
from hjp.notifications.models import Delivery, Message
from hjp.notifications.rendering import render_message, render_subject

logger = logging.getLogger(__name__)

REDACTED_BODY = message_body(ErasureReason.CONSENT_WITHDRAWN)

S = Delivery.Status
# Every change of a delivery's status, from -> to. Each change names its sources from this table, in the
# WHERE of its UPDATE or a check under the row lock, so a row that moved on meanwhile (another run of the
# task, a withdrawal, a person) is left as it is.
DELIVERY_TRANSITIONS = {
    S.PENDING: {S.SENDING, S.SENT, S.CANCELLED},  # SENT: only the inbox goes there directly
    S.FAILED: {S.SENDING, S.CANCELLED, S.PENDING},  # PENDING: a person resends an email the retries gave up on
    S.SENDING: {S.SENT, S.FAILED, S.UNKNOWN},
    S.UNKNOWN: {S.SENT, S.FAILED, S.PENDING},  # a late answer from the mail server, or a person's decision
    S.SENT: set(),
    S.CANCELLED: set(),
}


def may_become(to: str) -> list[str]:
    """The statuses a delivery may move to `to` from."""
    return [source for source, targets in DELIVERY_TRANSITIONS.items() if to in targets]


# The app that owns a kind of message may register how to compose it again at delivery (`register_composer`),
# so that a message that waited in the outbox (the broker down, a retry) says what is true when it is
# delivered, not when it was queued: outcomes composes its digests and outcome reports from the figures and the
# consent of that moment. A composer takes the message and returns (subject, body), or None when nothing may be
# said any more (the message is then cancelled). It runs under the message's row lock.
_COMPOSERS: dict[str, Callable[[Message], tuple[str, str] | None]] = {}


def register_composer(kind: str, compose: Callable[[Message], tuple[str, str] | None]) -> None:
    _COMPOSERS[kind] = compose


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
    except Exception:
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
    compose = _COMPOSERS.get(message.kind)
    composed = compose(message) if compose is not None else (message.subject, message.body)
    if composed is None:
        message.status = Message.Status.CANCELLED
        message.save(update_fields=["status"])
        Delivery.objects.filter(message=message, status__in=may_become(S.CANCELLED)).update(
            status=Delivery.Status.CANCELLED, last_error="Nothing was left to say when it was to be delivered."
        )
        return
    now = timezone.now()
    message.subject, message.body = composed[0][:200], composed[1]
    message.status = Message.Status.DELIVERED
    message.delivered_at = now
    message.save(update_fields=["subject", "body", "status", "delivered_at"])
    Delivery.objects.filter(message=message, channel=Delivery.Channel.INBOX, status__in=may_become(S.SENT)).update(
        status=Delivery.Status.SENT, attempts=1, sent_at=now, last_attempt_at=now
    )


def _deliver_email(delivery_id: int) -> None:
    # The email is made before the attempt is claimed: whatever fails here leaves it certainly unsent.
    message = Message.objects.select_related("recipient").get(deliveries__pk=delivery_id)
    if not (message.recipient.email and message.recipient.is_active):
        Delivery.objects.filter(pk=delivery_id, status__in=may_become(S.CANCELLED)).update(
            status=Delivery.Status.CANCELLED, last_error="The recipient has no email address or cannot sign in."
        )
        return
    email = EmailMessage(
        subject=render_subject("email"),
        body=email_body(message),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient.email],
        headers={"Message-ID": email_message_id(delivery_id)},
    )
    delivery = _email_claim(delivery_id)
    if delivery is None:
        return
    try:
        email.send(using="default")
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Delivery.objects.filter(pk=delivery.pk, status__in=may_become(S.FAILED)).update(
            status=Delivery.Status.FAILED, last_error=error
        )
        raise DeliveryFailed(error) from exc
    # Also from `unknown`: a send that outlived the margin still ended in an answer, so its fate is known.
    Delivery.objects.filter(pk=delivery.pk, status__in=may_become(S.SENT)).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )


@transaction.atomic
def _email_claim(delivery_id: int) -> Delivery | None:
    """Commit the attempt as `sending` before the email leaves, or return None when it must not be sent:
    already sent, cancelled, stopped by a withdrawal, or left `sending` by an attempt whose fate is unknown."""
    delivery = Delivery.objects.select_for_update(of=("self",)).select_related("message__recipient").get(pk=delivery_id)
    if delivery.status == Delivery.Status.SENDING:
        if delivery.last_attempt_at <= timezone.now() - sending_unknown_after():
            _mark_unknown(delivery)
        return None
    if delivery.status not in may_become(S.SENDING):
        return None
    if delivery.status == Delivery.Status.FAILED and delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return None  # the retries have given up; a person may resend it from the delivery log
    if delivery.message.stopped_at is not None:
        delivery.status = Delivery.Status.CANCELLED
        delivery.save(update_fields=["status"])
        return None
    delivery.status = Delivery.Status.SENDING
    delivery.attempts += 1
    delivery.last_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "last_attempt_at"])
    return delivery


def _mark_unknown(delivery: Delivery) -> None:
    delivery.status = Delivery.Status.UNKNOWN
    delivery.last_error = UNKNOWN_NOTE
    delivery.save(update_fields=["status", "last_error"])
    logger.warning("Email delivery %s may or may not have been sent; marked for a person to check.", delivery.pk)


UNKNOWN_NOTE = (
    "The worker stopped while handing this email to the mail server, so it may or may not have gone. "
    "It was not sent again. Check the mail server's log for its Message-ID, then resend it or mark it sent."
)


def sending_unknown_after() -> timedelta:
    """How long an email may stay `sending` before nobody can still be sending it."""
    return timedelta(seconds=settings.NOTIFICATION_EMAIL_TIMEOUT_SECONDS + settings.NOTIFICATION_SENDING_MARGIN_SECONDS)


def email_message_id(delivery_id: int) -> str:
    """The same Message-ID for every copy of one delivery's email, so duplicates are recognisable."""
    domain = urlsplit(settings.SITE_URL).hostname or "hjp.localhost"
    return f"<delivery-{delivery_id}.hjp@{domain}>"


class DeliveryFailed(Exception):
    """An email could not be sent; the task retries with backoff."""


def email_body(message: Message) -> str:
    """What an email says: that there is a message, and a link to sign in. Never any patient details."""
    inbox_url = f"{settings.SITE_URL}{reverse('notifications:inbox')}"
    return render_message("email", kind=message.get_kind_display().lower(), inbox_url=inbox_url)


STOP_LOCK_TIMEOUT = "3s"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code when lock_timeout expires


@transaction.atomic
def messages_stop_for_referrals(*, referral_ids: list[int], body: str = REDACTED_BODY) -> int:
    """A withdrawal of consent, or the retention period's end: cancel every message about these patients not
    yet sent, and put `body` in place of the content of every one (delivered or not). Returns how many were
    cancelled. A constant number of queries, however many referrals.

    The rows are locked first, in id order, and only then changed, so an email a worker marked sent (or
    sending) while this waited keeps its status. Nothing holds these locks while a mail server talks; should
    one be held longer than STOP_LOCK_TIMEOUT all the same, the withdrawal fails with a clear error instead
    of waiting."""
    try:
        with _lock_timeout(STOP_LOCK_TIMEOUT):
            message_ids = list(
                Message.objects.select_for_update()
                .filter(referral_id__in=referral_ids)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            stoppable = may_become(S.CANCELLED)
            delivery_ids = list(
                Delivery.objects.select_for_update()
                .filter(message_id__in=message_ids, status__in=stoppable)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
    except OperationalError as exc:
        # PostgreSQL's lock_timeout, or SQLite's whole-database lock (make run's database) held too long.
        timed_out = getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE or (
            connection.vendor == "sqlite" and "locked" in str(exc)
        )
        if not timed_out:
            raise
        raise DomainError(
            "Messages about this patient are being delivered right now. Please try again in a minute."
        ) from exc
    Delivery.objects.filter(pk__in=delivery_ids, status__in=stoppable).update(status=Delivery.Status.CANCELLED)
    messages = Message.objects.filter(pk__in=message_ids)
    cancelled = messages.filter(status=Message.Status.PENDING).update(status=Message.Status.CANCELLED)
    messages.update(body=body, stopped_at=Coalesce("stopped_at", Value(timezone.now())))
    return cancelled


@contextmanager
def _lock_timeout(value: str):
    """Within a transaction on PostgreSQL, give up waiting for a row lock after `value`, then restore."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [value])
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def messages_sweep(*, older_than: timedelta | None = None, max_attempts: int | None = None) -> int:
    """Re-enqueue what was not delivered: pending messages, and emails that failed fewer than max_attempts
    times. Mark for a person to check the emails left `sending` longer than a send can take (their worker
    died mid-send; they are never resent automatically). Run by Celery beat. Returns how many messages were
    handed to Celery."""
    older_than = older_than if older_than is not None else timedelta(seconds=settings.NOTIFICATION_SWEEP_GRACE_SECONDS)
    max_attempts = max_attempts or settings.NOTIFICATION_MAX_ATTEMPTS
    emails_mark_unknown()
    cutoff = timezone.now() - older_than
    ids = set(
        Message.objects.filter(status=Message.Status.PENDING, created_at__lte=cutoff).values_list("pk", flat=True)
    )
    ids |= set(
        Delivery.objects.filter(
            # A pending email may have been resent by a person after the retries gave up: no limit for that.
            Q(status=Delivery.Status.FAILED, attempts__lt=max_attempts)
            | Q(status=Delivery.Status.PENDING, message__status=Message.Status.DELIVERED),
            message__created_at__lte=cutoff,
        ).values_list("message_id", flat=True)
    )
    return sum(enqueue_delivery(pk) for pk in sorted(ids))


def emails_mark_unknown() -> int:
    """Mark `unknown` every email left `sending` longer than a send can take. Returns how many."""
    stale = Delivery.objects.filter(
        status__in=may_become(S.UNKNOWN), last_attempt_at__lte=timezone.now() - sending_unknown_after()
    )
    marked = stale.update(status=Delivery.Status.UNKNOWN, last_error=UNKNOWN_NOTE)
    if marked:
        logger.warning("%s email deliveries may or may not have been sent; marked for a person to check.", marked)
    return marked


@transaction.atomic
def delivery_resend(*, delivery: Delivery, actor) -> bool:
    """A person checked the mail server's log and found an `unknown` (or given-up `failed`) email did not go:
    send it again (same Message-ID). Returns False when the delivery is in no state to be resent."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.channel != Delivery.Channel.EMAIL or delivery.status not in may_become(S.PENDING):
        return False
    delivery.status = Delivery.Status.PENDING
    delivery.last_error = f"Resent by {actor} after checking."
    delivery.save(update_fields=["status", "last_error"])
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=delivery, summary="email resent after checking")
    message_id = delivery.message_id
    transaction.on_commit(lambda: enqueue_delivery(message_id), robust=True)
    return True


@transaction.atomic
def delivery_mark_sent(*, delivery: Delivery, actor) -> bool:
    """A person checked the mail server's log and found an `unknown` email did go: record it as sent (at the
    time it was handed over). Returns False when the delivery is not `unknown`."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status != Delivery.Status.UNKNOWN:
        return False
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = delivery.last_attempt_at
    delivery.last_error = f"Marked sent by {actor} after checking."
    delivery.save(update_fields=["status", "sent_at", "last_error"])
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=delivery, summary="email marked sent after checking")
    return True


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
