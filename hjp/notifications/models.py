from django.conf import settings
from django.db import models
from django.db.models import F, Q


class MessageKind(models.TextChoices):
    STATUS_NOTICE = "status_notice", "Status notice"
    OUTCOME_REPORT = "outcome_report", "Outcome report"
    DIGEST = "digest", "Monthly digest"
    EVIDENCE_REQUEST = "evidence_request", "Medical evidence request"
    EVIDENCE_REMINDER = "evidence_reminder", "Evidence reminder"
    DEADLINE_REMINDER = "deadline_reminder", "Deadline reminder"
    SECURITY_NOTICE = "security_notice", "Sign-in security notice"
    CLINIC_BOOKING = "clinic_booking", "Advice clinic booking"
    REFERRAL_MESSAGE = "referral_message", "Message on a referral"
    EVIDENCE_REPLY = "evidence_reply", "Reply to an evidence request"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    DAILY_SUMMARY = "daily_summary", "Daily summary"
    FUNDING_ENDING = "funding_ending", "Funding or partnership ending"
    # To a system client's account: one notification of a change to a Task it follows, POSTed to its endpoint.
    WEBHOOK = "webhook", "Webhook notification"


# Always emailed at once, whatever the recipient chose: a change to how they sign in must reach them now, and
# the daily summary is the email itself (it never shows in the inbox).
ALWAYS_EMAILED = frozenset({MessageKind.SECURITY_NOTICE, MessageKind.DAILY_SUMMARY})
# The kinds a user chooses to have by email (NotificationPreference.email_kinds), in the order the page lists them.
CHOOSABLE_KINDS = [kind for kind in MessageKind if kind not in ALWAYS_EMAILED and kind != MessageKind.WEBHOOK]


class Message(models.Model):
    """One message to one user, written to this outbox in the transaction of the change it reports and then
    delivered by a Celery job: into the user's in-app inbox (exactly once) and, where they have an email
    address, as an email with no patient details (at most once, see Delivery). `key` makes each message unique."""

    audit_referral = "referral_id"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be delivered"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    # PROTECT: deleting a user must not take the messages about patients with it (deactivate the user instead).
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    key = models.CharField(max_length=200, unique=True, help_text="e.g. outcome_report:case:42:user:7")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    url = models.CharField(max_length=300, blank=True, help_text="A path inside hjp the message points to.")
    # Not a foreign key: the core knows no app. Lets a withdrawal of consent find what to stop.
    referral_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="When consent was withdrawn: from then on nothing more of it goes out."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="message_unread_idx"),
            # Exactly the unread messages of the inbox (notifications.selectors._unread): each user's count reads
            # this index alone, at most its cap of entries, however many summaries or read messages they have.
            models.Index(
                fields=["recipient"],
                include=["id"],
                condition=Q(status="delivered", read_at__isnull=True) & ~Q(kind=MessageKind.DAILY_SUMMARY),
                name="message_unread_inbox_idx",
            ),
            # The inbox, newest first, a page at a time.
            models.Index(
                F("recipient"), F("status"), F("delivered_at").desc(), F("id").desc(), name="message_inbox_idx"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    UNKNOWN = "unknown", "Unknown: needs checking"


class Delivery(models.Model):
    """One channel of one message, with what happened when it was sent.

    An email is committed as `sending` (with its attempt counted) before it is handed to the mail server, and
    as `sent` or `failed` after. A worker that dies in between leaves it `sending`: nobody can tell whether the
    mail server took it, so it is never sent again automatically but, once older than the email timeout plus a
    margin, marked `unknown` for a person to check in the admin."""

    class Channel(models.TextChoices):
        INBOX = "inbox", "In-app inbox"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook (HTTPS POST to a system client)"

    Status = DeliveryStatus

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Each hand-over to the mail server (or POST to a webhook endpoint) counts one."
    )
    last_error = models.TextField(blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When the last attempt began.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="delivery_one_per_channel"),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False), name="delivery_sent_has_sent_at"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN])
                | Q(last_attempt_at__isnull=False, attempts__gt=0),
                name="delivery_sending_has_attempt",
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.status} ({self.message_id})"


class NotificationPreference(models.Model):
    """Which kinds of message also come by email, and whether they come as one daily summary instead of one email
    each. The inbox always gets everything. A user without a row gets every kind by email, one each."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_kinds = models.JSONField(default=list, blank=True, help_text="MessageKind values that also come by email.")
    daily_summary = models.BooleanField(
        default=False, help_text="One email a day saying how many of those arrived, instead of one email each."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Notification preferences of {self.user}"


def emails_at_once(preference: NotificationPreference | None, kind: str) -> bool:
    """Whether a message of `kind` goes by email as soon as it is delivered, for a user with `preference` (None:
    no row, so every kind)."""
    if kind in ALWAYS_EMAILED or preference is None:
        return True
    return kind in preference.email_kinds and not preference.daily_summary
