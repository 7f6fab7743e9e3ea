"""Admin pieces every app uses, written once, and the admin of the periodic jobs."""

from django.contrib import admin

from hjp.core.models import PeriodicJob, PeriodicJobRun


class PatientRecordAdminMixin:
    """For the admin of a model that holds patient data (and its inlines): nothing is deleted through the
    admin, neither one record (no Delete link; a POST to the delete page is refused with 403) nor many (no
    "Delete selected" action: Django offers an action only to those who hold its permission). Patient records
    are removed only by the retention and withdrawal services, which write the audit entry, remove the files
    and keep what the statistics need; a cascade from the admin would do none of that."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PeriodicJob)
class PeriodicJobAdmin(admin.ModelAdmin):
    """The periodic jobs Celery beat runs (hjp.core.scheduler reads them on every tick: an edit takes effect
    within seconds). Their runs of the last week are under Periodic job runs."""

    list_display = ["name", "task", "enabled", "schedule", "last_run_at", "updated_at"]
    list_filter = ["enabled"]
    readonly_fields = ["last_run_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "task", "enabled"]}),
        ("Every N seconds", {"fields": ["every_seconds"]}),
        (
            "Or at crontab times (server time)",
            {"fields": ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"]},
        ),
        ("Runs", {"fields": ["last_run_at", "created_at", "updated_at"]}),
    ]

    @admin.display(description="schedule")
    def schedule(self, job):
        if job.every_seconds is not None:
            return f"every {job.every_seconds} s"
        fields = (job.minute, job.hour, job.day_of_month, job.month_of_year, job.day_of_week)
        return "crontab " + " ".join(value or "*" for value in fields)


@admin.register(PeriodicJobRun)
class PeriodicJobRunAdmin(admin.ModelAdmin):
    """Which beat-enqueued runs there were in the last week, one per job and due time. Read-only."""

    list_display = ["job", "slot", "enqueued_at"]
    list_filter = ["job"]
    date_hierarchy = "slot"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
