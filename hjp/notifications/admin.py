from django.contrib import admin

from hjp.notifications.models import Delivery, Message


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ("channel", "status", "attempts", "last_error", "last_attempt_at", "sent_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The delivery log. Message bodies may name patients, so admins see kinds and states only."""

    list_display = ("created_at", "kind", "recipient", "status", "delivered_at", "read_at")
    list_filter = ("kind", "status")
    search_fields = ("recipient__email", "key")
    fields = ("key", "kind", "recipient", "status", "created_at", "delivered_at", "read_at")
    readonly_fields = fields
    inlines = [DeliveryInline]
    list_select_related = ("recipient",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
