from django.contrib import admin

from hjp.audit.models import AuditEvent
from hjp.core.admin import PatientRecordAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(PatientRecordAdminMixin, admin.ModelAdmin):
    """Read-only: admins browse the log, nobody edits or deletes it."""

    list_display = ("at", "actor", "action", "object_type", "object_id", "ip_address", "path")
    list_filter = ("action", "object_type")
    search_fields = ("actor__email", "object_id", "path", "summary")
    date_hierarchy = "at"
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
