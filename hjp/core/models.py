from django.conf import settings
from django.core.exceptions import ValidationError
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


class PeriodicJob(models.Model):
    """A job Celery beat runs on a schedule, editable in the admin (hjp.core.scheduler reads this table on every
    tick, so an edit takes effect within seconds, without a restart). Either every `every_seconds` seconds, at
    whole multiples of it since 1970 (so every beat agrees on when a run is due), or at the times of a crontab
    (server time, CELERY_TIMEZONE). Each run is claimed in PeriodicJobRun first: two beats run a job once."""

    name = models.CharField(max_length=100, unique=True)
    task = models.CharField(max_length=200, help_text="The Celery task, e.g. hjp.notifications.tasks.sweep_undelivered")
    enabled = models.BooleanField(default=True)
    every_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Run every this many seconds; or leave empty and fill in the crontab fields."
    )
    minute = models.CharField(max_length=64, blank=True, help_text="Crontab, e.g. 0 or */15")
    hour = models.CharField(max_length=64, blank=True, help_text="Crontab, e.g. 7 or 2-4")
    day_of_month = models.CharField(
        max_length=64, blank=True, default="", help_text="Crontab, e.g. 1 (empty: every day)"
    )
    month_of_year = models.CharField(max_length=64, blank=True, default="", help_text="Crontab (empty: every month)")
    day_of_week = models.CharField(
        max_length=64, blank=True, default="", help_text="Crontab, 0-6 from Sunday (empty: any)"
    )
    last_run_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last run was due (the slot it was enqueued for)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(every_seconds__isnull=True) | models.Q(every_seconds__gt=0),
                name="periodic_job_interval_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(every_seconds__isnull=False, minute="", hour="")
                | models.Q(every_seconds__isnull=True) & ~models.Q(minute="") & ~models.Q(hour=""),
                name="periodic_job_interval_or_crontab",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from hjp.core.periodic import schedule_of

        if self.every_seconds is None and not (self.minute and self.hour):
            raise ValidationError("Give either the seconds between runs or at least the crontab minute and hour.")
        if self.every_seconds is not None and (self.minute or self.hour or self.day_of_month or self.day_of_week):
            raise ValidationError("Give either the seconds between runs or crontab fields, not both.")
        from hjp.celery import app

        app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
        if self.task not in app.tasks:
            raise ValidationError({"task": f"There is no Celery task named {self.task!r}."})
        if self.every_seconds is None:
            try:
                schedule_of(self)
            except ValueError as exc:
                raise ValidationError(f"The crontab fields do not make a schedule: {exc}") from exc


class PeriodicJobRun(models.Model):
    """One run of a periodic job, by the time it was due. The unique pair is the claim: whichever beat inserts it
    enqueues the task; a second beat ticking for the same slot finds it there and enqueues nothing."""

    job = models.ForeignKey(PeriodicJob, on_delete=models.CASCADE, related_name="runs")
    slot = models.DateTimeField(help_text="When this run was due.")
    enqueued_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="periodic_job_run_once_per_slot")]

    def __str__(self):
        return f"{self.job} at {self.slot:%Y-%m-%d %H:%M:%S}"


class StoredFileDeletion(models.Model):
    """A private file (hjp.core.storage.private_storage) to delete: written in the transaction that unlinked
    it, removed once the file is gone. What a failed deletion leaves here, a periodic job tries again."""

    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name
