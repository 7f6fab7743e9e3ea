from django.conf import settings
from django.db import models

from hjp.core.errors import DomainError


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class SubmissionToken(models.Model):
    """One submission of a form, by its one-time token: a second POST of the same form finds this row (the
    unique index makes it wait while the first is in flight) and what the first one saved, and saves nothing.
    Rows older than a day are purged (`manage.py purge_submission_tokens`)."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    object_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return str(self.token)


class EnteredInError(models.Model):
    """A record that can be marked "entered in error" (FHIR's entered-in-error): kept, shown struck through with
    who marked it, when and why, and left out of everything that counts or acts on it. Never deleted."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


def entered_in_error_constraint(name: str) -> models.CheckConstraint:
    """Marked in error with who, when and a reason, or not marked at all: for a concrete model's Meta."""
    Q = models.Q
    return models.CheckConstraint(
        condition=Q(entered_in_error_at__isnull=True, entered_in_error_by__isnull=True, entered_in_error_reason="")
        | Q(entered_in_error_at__isnull=False, entered_in_error_by__isnull=False) & ~Q(entered_in_error_reason=""),
        name=f"{name}_entered_in_error_has_who_and_why",
    )


def mark_entered_in_error(obj: EnteredInError, *, actor, reason: str, now) -> None:
    """Set the marking on a locked row (the caller checks the right to and saves)."""
    if obj.is_entered_in_error:
        raise DomainError("This is already marked as entered in error.")
    if not reason.strip():
        raise DomainError("Say why it was entered in error.")
    obj.entered_in_error_at, obj.entered_in_error_by, obj.entered_in_error_reason = now, actor, reason.strip()
