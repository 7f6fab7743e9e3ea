"""The outbox: messages are written in the transaction of the change they report, then delivered by Celery.

The inbox is delivered exactly once: a message is unique by its key and its row is locked while it is marked
delivered. Email cannot be exactly-once (a worker may die after the mail server accepted an email and before
that was recorded), so it is at most once: each attempt is committed as `sending` before the email is handed
to the mail server, no row lock is held while SMTP talks, and an email left `sending` is never sent again
automatically but marked `unknown` for a person to check once older than the email timeout plus a margin.
Every email carries a Message-ID derived from its delivery, so a copy a person resends is recognisable.
When the broker cannot be reached, the message waits in the outbox and the periodic sweep delivers it."""

import logging
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
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.redaction import ErasureReason, message_body
from hjp.notifications.models import Delivery, Message
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
    kind = _kind_to_deliver(message_id)
    if kind is None:
        return
    if prepare := _PREPARERS.get(kind):
        prepare()
    claimed = _claim_batch(message_id)
    _send_claimed(claimed, message_id=message_id)


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
    own = list(Message.objects.select_for_update(of=("self",)).select_related("recipient").filter(pk=message_id))
    if not own:
        return []
    if own[0].kind in _COMPOSERS:
        return _deliver_and_claim({message_id: own[0]})
    others = list(
        Message.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("recipient")
        .filter(status=Message.Status.PENDING)
        .exclude(pk=message_id)
        .exclude(kind__in=list(_COMPOSERS))
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
    claimed, cancel, no_address = [], [], []
    subject, bodies = render_subject("email"), {}  # the same for every email of a kind: written once a batch
    deliveries = Delivery.objects.select_for_update().filter(message_id__in=messages, channel=Delivery.Channel.EMAIL)
    for delivery in deliveries.order_by("pk"):
        message = messages[delivery.message_id]
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
            continue
        if message.stopped_at is not None or message.status == Message.Status.CANCELLED:
            cancel.append(delivery.pk)
            continue
        if message.kind not in bodies:
            bodies[message.kind] = email_body(message)
        email = EmailMessage(
            subject=subject,
            body=bodies[message.kind],
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
    Delivery.objects.filter(pk__in=[c.delivery_id for c in claimed]).update(
        status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    return claimed


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
            sent.append(item.delivery_id)
    finally:
        _record_sent(sent)
        _close_quietly(mailer)


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


def _record_sent(delivery_ids: list[int]) -> None:
    # Also from `unknown`: a send that outlived the margin still ended in an answer, so its fate is known. Not
    # waiting for the disk: should PostgreSQL itself crash and lose this, the emails stay `sending` and are
    # marked for a person to check, never sent again.
    if not delivery_ids:
        return
    with transaction.atomic():
        _commit_without_waiting_for_the_disk()
        Delivery.objects.filter(pk__in=delivery_ids, status__in=may_become(S.SENT)).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), last_error=""
        )


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
        forget_unread_count(user)


@transaction.atomic
def messages_mark_all_read(*, user) -> int:
    marked = Message.objects.filter(recipient=user, status=Message.Status.DELIVERED, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    forget_unread_count(user)
    return marked
