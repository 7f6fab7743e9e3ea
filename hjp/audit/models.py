from django.conf import settings
from django.db import models


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
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}#{self.object_id}"
