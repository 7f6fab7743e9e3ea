"""System clients of the API (a GP system, a hospital EPR, an advice service's own case management system) and
the idempotency records of their creates."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from hjp.accounts.models import Organisation
from hjp.core.encrypted import EncryptedTextField
from hjp.core.models import TimeStampedModel

# Every scope a client may hold: reading referrals, submitting referrals, moving referrals and cases.
READ_REFERRALS = "referrals:read"
WRITE_REFERRALS = "referrals:write"
WRITE_CASES = "cases:write"
SCOPES = settings.API_SCOPES
SERVICE_USER_NAME_PREFIX = "API client: "


def validate_scopes(value: str) -> None:
    unknown = sorted(set(value.split()) - set(SCOPES))
    if unknown:
        raise ValidationError(f"Unknown scopes: {', '.join(unknown)}. The scopes are: {', '.join(SCOPES)}.")
    if not value.split():
        raise ValidationError("Give the client at least one scope.")


class ApiClient(TimeStampedModel):
    """A system that calls the API with OAuth 2.0 client credentials (its django-oauth-toolkit Application), on
    behalf of one organisation. It acts as its `service_user`: a system account holding the organisation's role
    (referrer in a health organisation, advisor in an advice organisation) that can never sign in on the pages,
    so every rule of the apps (visibility, permissions, services, audit entries) applies to it unchanged and
    every audit entry it causes names it."""

    name = models.CharField(max_length=150, unique=True)
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="api_client"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_clients")
    service_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    allowed_scopes = models.CharField(
        max_length=200,
        validators=[validate_scopes],
        help_text="Space-separated: " + ", ".join(SCOPES) + ". A token never holds more.",
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this the client's tokens stop working and it gets no new ones."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self):
        return self.name

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.allowed_scopes.split())

    def is_active(self, now=None) -> bool:
        """Whether the client may get tokens and use them now: not revoked, not expired."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class IdempotencyRecord(models.Model):
    """One create a client made with an `Idempotency-Key` header: the hash of what it sent and the response it
    got, replayed to a retry with the same key for IDEMPOTENCY_LIFETIME (api.idempotency). The unique constraint
    makes a concurrent retry wait for the first request's transaction and then find this row."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_unique_key_per_client"),
            models.CheckConstraint(condition=~Q(key=""), name="idempotency_key_not_empty"),
        ]

    def __str__(self):
        return f"{self.client_id}:{self.key}"


class Subscription(TimeStampedModel):
    """A client's FHIR Subscription (the Subscriptions R5 Backport IG's R4 profile) to the topic of its Tasks'
    changes: each change of a Task its system account may see is POSTed to `endpoint` as a notification Bundle,
    signed with `secret` (HMAC-SHA256, the Hjp-Signature header), through the outbox (api.fhir.subscriptions)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        OFF = "off", "Off"

    class Content(models.TextChoices):
        ID_ONLY = "id-only", "The Task's id only"
        FULL_RESOURCE = "full-resource", "The whole Task"

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    endpoint = models.URLField(max_length=500)
    content = models.CharField(max_length=20, choices=Content.choices, default=Content.ID_ONLY)
    # Kept to sign with (the client checks the signature with its copy): shown once, when the subscription is made;
    # encrypted at rest with EVIDENCE_ENCRYPTION_KEYS (re-encrypted by manage.py rotate_encrypted_columns).
    secret = EncryptedTextField()
    events_since_start = models.PositiveBigIntegerField(default=0)
    end = models.DateTimeField(null=True, blank=True, help_text="After this no more notifications are sent.")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Subscription {self.pk} of {self.client}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.ACTIVE and (self.end is None or now < self.end)


class SubscriptionNotification(models.Model):
    """One change of a Task told to one subscription: its number in the subscription's events and the outbox
    message that carries it (unique per subscription and change: the message's key)."""

    # PROTECT: the log of what was told is kept; a subscription is ended (status off), never deleted.
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="notifications")
    message = models.OneToOneField(
        "notifications.Message", on_delete=models.CASCADE, related_name="subscription_notification"
    )
    event_number = models.PositiveBigIntegerField()
    referral_id = models.BigIntegerField(db_index=True)
    change = models.CharField(max_length=100)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_number"], name="subscription_event_number_unique"),
            models.UniqueConstraint(fields=["subscription", "change"], name="subscription_change_once"),
        ]

    def __str__(self):
        return f"Event {self.event_number} of subscription {self.subscription_id}"
