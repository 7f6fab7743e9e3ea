"""The outbox: messages are written in the transaction of the change they report, then delivered by Celery.

The inbox is delivered exactly once: a message is unique by its key and its row is locked while it is marked
delivered. Email cannot be exactly-once (a worker may die after the mail server accepted an email and before
that was recorded), so it is at most once: each attempt is committed as `sending` before the email is handed
to the mail server, no row lock is held while SMTP talks, and an email left `sending` is never sent again
automatically but marked `unknown` for a person to check once older than the email timeout plus a margin.
Every email carries a Message-ID derived from its delivery, so a copy a person resends is recognisable.
When the broker cannot be reached, the message waits in the outbox and the periodic sweep delivers it."""

import itertools
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason, message_body
from hjp.notifications import webhooks
from hjp.notifications.mime import BatchEmail, SharedText
from hjp.notifications.models import (
    CHOOSABLE_KINDS,
    Delivery,
    Message,
    MessageKind,
    NotificationPreference,
    emails_at_once,
)
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.selectors import forget_unread_count

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
# said any more (the message is then cancelled). It runs under the message's row lock, so it only reads; work
# that must be done first (outcomes brings its running totals up to date) is its `prepare`, which runs before the
# message is claimed, outside any transaction, with no message row locked.
_COMPOSERS: dict[str, Callable[[Message], tuple[str, str] | None]] = {}
_PREPARERS: dict[str, Callable[[], None]] = {}


def register_composer(
    kind: str, compose: Callable[[Message], tuple[str, str] | None], *, prepare: Callable[[], None] | None = None
) -> None:
    _COMPOSERS[kind] = compose
    if prepare is not None:
        _PREPARERS[kind] = prepare


# The app that owns a kind of webhook notification registers how to compose it at each attempt
# (`register_webhook`): it returns a `webhooks.WebhookRequest` (the endpoint, the secret, the body, the event's id)
# or None when the notification may no longer go (the subscription ended, the client may no longer see what it is
# about): it is then cancelled. It runs under the message's row lock, so it only reads.
_WEBHOOKS: dict[str, Callable[[Message], webhooks.WebhookRequest | None]] = {}


def register_webhook(kind: str, compose: Callable[[Message], webhooks.WebhookRequest | None]) -> None:
    _WEBHOOKS[kind] = compose


def may_be_emailed(recipient) -> bool:
    """Whether a message to `recipient` goes by email as well as to the inbox: a person who can sign in, with an
    address. A system account (an API client's service user) is sent none: its address is not a mailbox. Its
    messages stay in its inbox, delivered at once (the record that the notice was given; the system reads the
    referral's state through the API instead)."""
    return bool(recipient.email) and recipient.is_active and not recipient.is_system_account


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
        if may_be_emailed(recipient):
            Delivery.objects.create(message=message, channel=Delivery.Channel.EMAIL)
        transaction.on_commit(lambda: enqueue_delivery(message.pk), robust=True)
    return message


def webhook_queue(*, recipient, kind: str, key: str, subject: str) -> tuple[Message, bool]:
    """Put a webhook notification in the outbox, once per key (a change, to one subscription), and deliver it
    after the surrounding transaction commits. Its body is composed at each attempt (`register_webhook`).
    Returns the message and whether it was new."""
    message, created = Message.objects.get_or_create(
        key=key, defaults={"recipient": recipient, "kind": kind, "subject": subject[:200], "body": ""}
    )
    if created:
        Delivery.objects.create(message=message, channel=Delivery.Channel.WEBHOOK)
        transaction.on_commit(lambda: enqueue_delivery(message.pk), robust=True)
    return message, created


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
    """Deliver every channel of a message that is not yet sent, and with it up to NOTIFICATION_DELIVERY_BATCH - 1
    other messages waiting in the outbox (`_claim_batch`). Raises when this message's email fails, so the task
    retries; an email of another message that fails is left `failed` for its own task or the sweep to retry."""
    if message_id in _settled:
        return
    kind = _kind_to_deliver(message_id)
    if kind is None:
        return
    if compose := _WEBHOOKS.get(kind):
        _deliver_webhook(message_id, compose)
        return
    if prepare := _PREPARERS.get(kind):
        prepare()
    claimed = _claim_batch(message_id)
    _send_claimed(claimed, message_id=message_id)


# The messages this process committed as settled for good: delivered to the inbox (or cancelled), and the email
# sent, cancelled or never to be sent (no address), statuses nothing moves on from (an email `failed` or `unknown`
# is never in here: a retry or a person may send it). Most tasks of a busy outbox come for a message that went in
# an earlier task's batch, usually in the same worker process: they end here without a query. Filled after the
# commit that settled them (transaction.on_commit), at most SETTLED_MEMORY ids, the oldest forgotten first; a
# task whose message is not remembered reads its statuses (`_kind_to_deliver`).
SETTLED_MEMORY = 10_000
_settled: dict[int, None] = {}
_settled_lock = threading.Lock()


def _remember_settled(message_ids) -> None:
    """After the current transaction commits (at once outside one), remember these messages as settled."""
    ids = list(message_ids)

    def remember() -> None:
        with _settled_lock:  # (tasks run eagerly in a threaded web process, without a broker)
            _settled.update(dict.fromkeys(ids))
            for old in list(itertools.islice(_settled, max(0, len(_settled) - SETTLED_MEMORY))):
                del _settled[old]

    if ids:
        transaction.on_commit(remember)


def forget_settled() -> None:
    """Forget every message remembered as settled (tests, to act as another worker process)."""
    _settled.clear()


def _kind_to_deliver(message_id: int) -> str | None:
    """The message's kind, or None when it is delivered and its email settled, read without a lock or a
    transaction. Most tasks of a busy outbox find their message delivered with an earlier one's batch; they end
    here, and no commit waits for the disk."""
    statuses = list(
        Delivery.objects.filter(message_id=message_id).values_list(
            "channel", "status", "message__status", "message__kind"
        )
    )
    settled = {S.SENT, S.CANCELLED, S.UNKNOWN}
    if all(
        message_status != Message.Status.PENDING and (channel == Delivery.Channel.INBOX or status in settled)
        for channel, status, message_status, _ in statuses
    ):
        return None
    return statuses[0][3]


@dataclass
class _Claimed:
    """An email committed as `sending`, with what its delivery was before (to hand it back, if never sent)."""

    delivery_id: int
    message_id: int
    email: EmailMessage
    status: str
    last_attempt_at: datetime | None


@transaction.atomic
def _claim_batch(message_id: int) -> list[_Claimed]:
    """In one transaction, committed before any email leaves: lock the message (waiting for it) and up to
    NOTIFICATION_DELIVERY_BATCH - 1 other pending messages (skipping those another worker holds), deliver their
    inbox, and claim their emails as `sending`. One commit waits for the disk per batch instead of three per
    message. Messages composed again at delivery (outcome reports, digests) go alone: they are never taken along,
    and take nothing along, since composing them takes longer, and a withdrawal of consent must not wait behind a
    batch of them. (Their `prepare`, a digest's count of what is pending, ran before, with no row locked.)"""
    own = list(
        Message.objects.select_for_update(of=("self",))
        .select_related("recipient__notification_preference")
        .filter(pk=message_id)
    )
    if not own:
        return []
    if own[0].kind in _COMPOSERS:
        return _deliver_and_claim({message_id: own[0]})
    others = list(
        Message.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("recipient__notification_preference")
        .filter(status=Message.Status.PENDING)
        .exclude(pk=message_id)
        .exclude(kind__in=[*_COMPOSERS, *_WEBHOOKS])
        .order_by("pk")[: settings.NOTIFICATION_DELIVERY_BATCH - 1]
    )
    return _deliver_and_claim({message.pk: message for message in own + others})


def _deliver_and_claim(messages: dict[int, Message]) -> list[_Claimed]:
    _deliver_inboxes([message for message in messages.values() if message.status == Message.Status.PENDING])
    return _claim_emails(messages)


def _deliver_inboxes(messages: list[Message]) -> None:
    now = timezone.now()
    delivered, cancelled = [], []
    for message in messages:
        compose = _COMPOSERS.get(message.kind)
        if compose is None:
            delivered.append(message.pk)
            continue
        composed = compose(message)
        if composed is None:
            cancelled.append(message.pk)
            continue
        message.subject, message.body = composed[0][:200], composed[1]
        message.save(update_fields=["subject", "body"])
        delivered.append(message.pk)
    if cancelled:
        Message.objects.filter(pk__in=cancelled).update(status=Message.Status.CANCELLED)
        Delivery.objects.filter(message_id__in=cancelled, status__in=may_become(S.CANCELLED)).update(
            status=Delivery.Status.CANCELLED, last_error="Nothing was left to say when it was to be delivered."
        )
    if delivered:
        Message.objects.filter(pk__in=delivered).update(status=Message.Status.DELIVERED, delivered_at=now)
        Delivery.objects.filter(
            message_id__in=delivered, channel=Delivery.Channel.INBOX, status__in=may_become(S.SENT)
        ).update(status=Delivery.Status.SENT, attempts=1, sent_at=now, last_attempt_at=now)
    for message in messages:
        message.status = Message.Status.CANCELLED if message.pk in cancelled else Message.Status.DELIVERED


def _claim_emails(messages: dict[int, Message]) -> list[_Claimed]:
    """Claim, under the row locks, each email that may be sent: not already sent, cancelled, stopped by a
    withdrawal, given up by the retries, or left `sending` by an attempt whose fate is unknown (marked
    `unknown` once older than a send can take). The email is made before it is claimed: whatever fails while
    making it leaves it certainly unsent."""
    now = timezone.now()
    claimed, cancel, no_address, not_wanted = [], [], [], []
    subject, bodies = render_subject("email"), {}  # the same for every email of a kind: written once a batch
    deliveries = Delivery.objects.select_for_update().filter(message_id__in=messages, channel=Delivery.Channel.EMAIL)
    settled = set(messages)  # the messages whose email is settled too, once the claim commits
    for delivery in deliveries.order_by("pk"):
        message = messages[delivery.message_id]
        if delivery.status not in (S.SENT, S.CANCELLED):
            settled.discard(message.pk)
        if delivery.status == Delivery.Status.SENDING:
            if delivery.last_attempt_at <= now - sending_unknown_after():
                _mark_unknown(delivery)
            continue
        if delivery.status not in may_become(S.SENDING):
            continue
        if delivery.status == Delivery.Status.FAILED and delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            continue  # the retries have given up; a person may resend it from the delivery log
        if not may_be_emailed(message.recipient):
            no_address.append(delivery.pk)
            settled.add(message.pk)
            continue
        if message.stopped_at is not None or message.status == Message.Status.CANCELLED:
            cancel.append(delivery.pk)
            settled.add(message.pk)
            continue
        if not emails_at_once(getattr(message.recipient, "notification_preference", None), message.kind):
            not_wanted.append(delivery.pk)
            continue
        if message.kind not in bodies:
            bodies[message.kind] = email_body(message)
        email = BatchEmail(
            shared=SHARED_TEXT,
            subject=subject,
            # A summary's body is a count and a link (notifications_daily_summary), written for the email.
            body=message.body if message.kind == MessageKind.DAILY_SUMMARY else bodies[message.kind],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient.email],
            headers={"Message-ID": email_message_id(delivery.pk)},
        )
        claimed.append(_Claimed(delivery.pk, message.pk, email, delivery.status, delivery.last_attempt_at))
    Delivery.objects.filter(pk__in=cancel).update(status=Delivery.Status.CANCELLED)
    Delivery.objects.filter(pk__in=no_address).update(
        status=Delivery.Status.CANCELLED,
        last_error="The recipient has no email address, cannot sign in, or is a system account.",
    )
    if not_wanted:
        Delivery.objects.filter(pk__in=not_wanted).update(status=Delivery.Status.CANCELLED, last_error=NOT_WANTED)
    Delivery.objects.filter(pk__in=[c.delivery_id for c in claimed]).update(
        status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    _remember_settled(settled)
    return claimed


# The MIME form of what emails say, made once by Django for the first that said it and copied for the others, in
# this batch and the next (hjp.notifications.mime).
SHARED_TEXT = SharedText()

NOT_WANTED = "Not emailed: the recipient's notification preferences (another kind, or the daily summary)."


def _send_claimed(claimed: list[_Claimed], *, message_id: int) -> None:
    """Hand the claimed emails to the mail server over one connection, this message's first. No row lock is
    held meanwhile. As the batch goes, messages stopped since the claim (consent withdrawn) are looked for again
    before a send, at most every NOTIFICATION_STOP_RECHECK_SECONDS, and their emails cancelled unsent
    (`_cancel_stopped`). At the first failure the email is marked `failed` and those not yet handed over are
    given back as they were (they never left: their attempt is not counted). Those that went are recorded
    `sent`."""
    if not claimed:
        return
    claimed.sort(key=lambda c: c.message_id != message_id)
    mailer = mail.mailers["default"]
    sent, stopped = [], set()
    looked_at = time.monotonic()
    try:
        for position, item in enumerate(claimed):
            if position and time.monotonic() - looked_at >= settings.NOTIFICATION_STOP_RECHECK_SECONDS:
                stopped |= _cancel_stopped([later for later in claimed[position:] if later.message_id not in stopped])
                looked_at = time.monotonic()
            if item.message_id in stopped:
                continue
            try:
                mailer.open()  # once: the batch shares the connection
                mailer.send_messages([item.email])
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                Delivery.objects.filter(pk=item.delivery_id, status__in=may_become(S.FAILED)).update(
                    status=Delivery.Status.FAILED, last_error=error
                )
                _give_back(claimed[position + 1 :])
                if item.message_id == message_id:
                    raise DeliveryFailed(error) from exc
                return
            sent.append(item)
    finally:
        _record_sent(sent)
        _close_quietly(mailer)


@dataclass
class _WebhookClaim:
    delivery_id: int
    attempt: int
    request: webhooks.WebhookRequest


def _deliver_webhook(message_id: int, compose) -> None:
    """POST a webhook notification: at least once. The attempt is committed as `sending` (under the row locks:
    a second run of the task waits, then finds it sent or being sent, and sends nothing), the POST made with no
    lock held, then the delivery recorded `sent`, or `failed` and the task retried with backoff until
    NOTIFICATION_MAX_ATTEMPTS, when it is given up (logged, and kept `failed` for a person to resend). A worker
    that dies mid-POST leaves it `sending`: once older than a POST can take, it is sent again (the receiver
    de-duplicates on the event id)."""
    claim = _claim_webhook(message_id, compose)
    if claim is None:
        return
    try:
        webhooks.post(claim.request)
    except webhooks.WebhookError as error:
        reason = str(error)[:2000]
        Delivery.objects.filter(pk=claim.delivery_id, status__in=may_become(S.FAILED)).update(
            status=Delivery.Status.FAILED, last_error=reason
        )
        if claim.attempt >= settings.NOTIFICATION_MAX_ATTEMPTS:
            logger.error(
                "Webhook notification %s given up after %s attempts: %s", claim.request.event_id, claim.attempt, reason
            )
            return
        logger.warning("Webhook notification %s failed (attempt %s): %s", claim.request.event_id, claim.attempt, reason)
        raise DeliveryFailed(reason) from None
    Delivery.objects.filter(pk=claim.delivery_id, status__in=may_become(S.SENT)).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info("Webhook notification %s sent (attempt %s).", claim.request.event_id, claim.attempt)


@transaction.atomic
def _claim_webhook(message_id: int, compose) -> _WebhookClaim | None:
    message = Message.objects.select_for_update(of=("self",)).select_related("recipient").filter(pk=message_id).first()
    delivery = (
        Delivery.objects.select_for_update().filter(message_id=message_id, channel=Delivery.Channel.WEBHOOK).first()
    )
    if message is None or delivery is None:
        return None
    now = timezone.now()
    if delivery.status == Delivery.Status.SENDING:
        if delivery.last_attempt_at > now - webhook_sending_stale_after():
            return None  # another worker is sending it
        delivery.status = Delivery.Status.FAILED
        delivery.last_error = "The worker stopped while posting it; sent again."
    if delivery.status not in may_become(S.SENDING):
        return None
    if delivery.status == Delivery.Status.FAILED and delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return None  # given up; a person may resend it from the delivery log
    request = compose(message)
    if request is None:
        message.status = Message.Status.CANCELLED
        message.save(update_fields=["status"])
        delivery.status = Delivery.Status.CANCELLED
        delivery.last_error = "No longer to be sent: the subscription ended or the client may no longer see it."
        delivery.save(update_fields=["status", "last_error"])
        return None
    # What went, not its content: a full Task is not kept here, where no withdrawal of consent would reach it.
    message.body = f"Event {request.event_id}: {len(request.body)} bytes, signed, to the subscription's endpoint."
    message.status = Message.Status.DELIVERED
    message.delivered_at = message.delivered_at or now
    message.save(update_fields=["body", "status", "delivered_at"])
    delivery.status = Delivery.Status.SENDING
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.save(update_fields=["status", "attempts", "last_attempt_at", "last_error"])
    return _WebhookClaim(delivery.pk, delivery.attempts, request)


def webhook_sending_stale_after() -> timedelta:
    """How long a webhook may stay `sending` before nobody can still be posting it."""
    return timedelta(
        seconds=settings.NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS * 2 + settings.NOTIFICATION_SENDING_MARGIN_SECONDS
    )


def _cancel_stopped(unsent: list[_Claimed]) -> set[int]:
    """The ids of the messages among `unsent` that were stopped (consent withdrawn, retention) since their emails
    were claimed: one query; for any, their claims are undone (never handed over: not counted) and the emails
    cancelled, as the withdrawal cancels an email not being sent."""
    stopped = set(
        Message.objects.filter(pk__in={item.message_id for item in unsent}, stopped_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    if stopped:
        cancelled = [item for item in unsent if item.message_id in stopped]
        with transaction.atomic():
            _give_back(cancelled)
            Delivery.objects.filter(
                pk__in=[item.delivery_id for item in cancelled], status__in=may_become(S.CANCELLED)
            ).update(status=Delivery.Status.CANCELLED)
    return stopped


def _close_quietly(mailer) -> None:
    # Every email's fate is recorded by now; a mail server that fumbles the goodbye changes none of them.
    try:
        mailer.close()
    except Exception:
        logger.warning("Closing the connection to the mail server failed.", exc_info=True)


def _record_sent(sent: list[_Claimed]) -> None:
    # Also from `unknown`: a send that outlived the margin still ended in an answer, so its fate is known. Not
    # waiting for the disk: should PostgreSQL itself crash and lose this, the emails stay `sending` and are
    # marked for a person to check, never sent again.
    if not sent:
        return
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        recorded = Delivery.objects.filter(
            pk__in=[item.delivery_id for item in sent], status__in=may_become(S.SENT)
        ).update(status=Delivery.Status.SENT, sent_at=timezone.now(), last_error="")
        if recorded == len(sent):  # (else one moved on meanwhile: its task reads what happened)
            _remember_settled(item.message_id for item in sent)


def _give_back(unsent: list[_Claimed]) -> None:
    """Undo the claim of emails that were never handed to the mail server: their own task or the sweep sends them."""
    for item in unsent:
        Delivery.objects.filter(pk=item.delivery_id, status=Delivery.Status.SENDING).update(
            status=item.status, attempts=F("attempts") - 1, last_attempt_at=item.last_attempt_at
        )


def _commit_without_waiting_for_the_disk() -> None:
    """Inside a transaction on PostgreSQL: its commit returns before the disk has it (synchronous_commit off,
    for this transaction only, so PgBouncer's transaction pooling keeps no session state)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
    # A webhook whose worker died mid-POST goes again (at least once).
    ids |= set(
        Delivery.objects.filter(
            channel=Delivery.Channel.WEBHOOK,
            status=Delivery.Status.SENDING,
            last_attempt_at__lte=timezone.now() - webhook_sending_stale_after(),
        ).values_list("message_id", flat=True)
    )
    return sum(enqueue_delivery(pk) for pk in sorted(ids))


def emails_mark_unknown() -> int:
    """Mark `unknown` every email left `sending` longer than a send can take. Returns how many."""
    stale = Delivery.objects.filter(
        channel=Delivery.Channel.EMAIL,
        status__in=may_become(S.UNKNOWN),
        last_attempt_at__lte=timezone.now() - sending_unknown_after(),
    )
    marked = stale.update(status=Delivery.Status.UNKNOWN, last_error=UNKNOWN_NOTE)
    if marked:
        logger.warning("%s email deliveries may or may not have been sent; marked for a person to check.", marked)
    return marked


@transaction.atomic
def delivery_resend(*, delivery: Delivery, actor) -> bool:
    """A person checked the mail server's log and found an `unknown` (or given-up `failed`) email did not go:
    send it again (same Message-ID); or a webhook the retries gave up on is to be tried again. Returns False when
    the delivery is in no state to be resent."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.channel not in (Delivery.Channel.EMAIL, Delivery.Channel.WEBHOOK) or delivery.status not in may_become(
        S.PENDING
    ):
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
        forget_unread_count(user)


@transaction.atomic
def messages_mark_all_read(*, user) -> int:
    marked = Message.objects.filter(recipient=user, status=Message.Status.DELIVERED, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    forget_unread_count(user)
    return marked


@transaction.atomic
def notification_preference_set(*, user, email_kinds: list[str], daily_summary: bool) -> NotificationPreference:
    """Record which kinds of message also come to `user` by email, and whether as one daily summary. Audited."""
    unknown = set(email_kinds) - set(CHOOSABLE_KINDS)
    if unknown:
        raise DomainError(f"Unknown kinds of message: {', '.join(sorted(unknown))}.")
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.email_kinds = [kind for kind in CHOOSABLE_KINDS if kind in email_kinds]
    preference.daily_summary = daily_summary
    preference.save()
    audit_record(
        actor=user,
        action=AuditEvent.Action.UPDATE,
        obj=preference,
        summary=f"email: {', '.join(preference.email_kinds) or 'none'}; daily summary: {'yes' if daily_summary else 'no'}",
    )
    return preference


def daily_summaries_send(*, day=None) -> int:
    """For each user who asked for a daily summary: one email saying how many messages of the kinds they chose
    arrived in their inbox on `day` (yesterday by default, in local time), with a link to sign in; nothing when
    none did. Queued through the outbox with a key per user and day, so a second run for the same day sends
    nothing again. Returns how many were queued. Two queries, then the outbox's writes for each summary."""
    day = day or timezone.localdate() - timedelta(days=1)
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    preferences = {
        preference.user_id: preference
        for preference in NotificationPreference.objects.filter(daily_summary=True, user__is_active=True)
        .exclude(email_kinds=[])
        .select_related("user")
    }
    arrived = (
        Message.objects.filter(
            recipient__in=list(preferences),
            status=Message.Status.DELIVERED,
            delivered_at__gte=start,
            delivered_at__lt=start + timedelta(days=1),
        )
        .order_by()
        .values_list("recipient", "kind")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, int] = {}
    for recipient_id, kind, n in arrived if preferences else ():
        if kind in preferences[recipient_id].email_kinds:
            counts[recipient_id] = counts.get(recipient_id, 0) + n
    inbox_url = f"{settings.SITE_URL}{reverse('notifications:inbox')}"
    for recipient_id, count in sorted(counts.items()):
        with transaction.atomic():
            message_queue(
                recipient=preferences[recipient_id].user,
                kind=MessageKind.DAILY_SUMMARY,
                key=f"daily_summary:{recipient_id}:{day.isoformat()}",
                subject=render_subject("daily_summary", day=day, count=count),
                body=render_message("daily_summary", day=day, count=count, inbox_url=inbox_url),
            )
    return len(counts)


def messages_mark_read_about(*, user, referral_id: int, kind: str) -> int:
    """The user read what their notices of `kind` about the referral point to (its conversation): mark them read,
    so the inbox's unread count says only what is still new. One UPDATE (atomic alone: no savepoint)."""
    marked = Message.objects.filter(
        recipient=user, referral_id=referral_id, kind=kind, status=Message.Status.DELIVERED, read_at__isnull=True
    ).update(read_at=timezone.now())
    if marked:
        forget_unread_count(user)
    return marked
