from django.conf import settings
from django.db import models
from django.db.models import F, Q


class AuditEvent(models.Model):
    """Who did what to which object, when and from where. Written, never edited."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Listed"
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        TRANSITION = "transition", "Changed state"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"
        REDACT = "redact", "Redacted"
        REFUSE = "refuse", "Refused"
        DELETE = "delete", "Deleted"
        VERIFY = "verify", "Passed the second factor"
        VERIFY_FAILED = "verify_failed", "Failed the second factor"
        RESET = "reset", "Reset"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100, help_text="app_label.model of the object acted on")
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=255, blank=True, help_text="Never holds patient details.")
    # The patient record the object belongs to: the id of its referral (the referral itself, its patient, case,
    # notes, outcomes, messages...), filled in by `audit_record` from the model's `audit_referral` path. "Who has
    # looked" reads a patient's entries by it (audit_referral_idx), newest first.
    referral_ref = models.BigIntegerField(
        null=True, blank=True, help_text="Id of the referral (patient record) the object acted on belongs to."
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(
                F("referral_ref"),
                F("at").desc(),
                F("id").desc(),
                name="audit_referral_idx",
                condition=Q(referral_ref__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}#{self.object_id}"
