from django.contrib import admin, messages

from hjp.core.admin import PatientRecordAdminMixin
from hjp.notifications import services
from hjp.notifications.models import Delivery, Message

DELIVERY_FIELDS = ("channel", "status", "attempts", "last_error", "last_attempt_at", "sent_at")


class DeliveryInline(PatientRecordAdminMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = DELIVERY_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(PatientRecordAdminMixin, admin.ModelAdmin):
    """The delivery log. Message bodies may name patients, so admins see kinds and states only."""

    list_display = ("created_at", "kind", "recipient", "status", "delivered_at", "read_at")
    list_filter = ("kind", "status", "deliveries__status")
    search_fields = ("recipient__email", "key")
    fields = ("key", "kind", "recipient", "status", "created_at", "delivered_at", "read_at", "stopped_at")
    readonly_fields = fields
    inlines = [DeliveryInline]
    list_select_related = ("recipient",)

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(PatientRecordAdminMixin, admin.ModelAdmin):
    """Each channel's delivery, filterable by status. An email whose fate is unknown (its worker died while
    the mail server had it) waits here for a person: check the mail server's log for its Message-ID, then
    resend it or mark it sent."""

    list_display = (
        "id",
        "message_link",
        "channel",
        "status",
        "attempts",
        "last_attempt_at",
        "sent_at",
        "message_id_header",
    )
    list_filter = ("status", "channel")
    search_fields = ("message__recipient__email", "message__key")
    fields = ("message", *DELIVERY_FIELDS, "message_id_header")
    readonly_fields = fields
    list_select_related = ("message__recipient",)
    actions = ("resend_after_checking", "mark_sent_after_checking")

    @admin.display(description="message")
    def message_link(self, delivery):
        return f"{delivery.message.get_kind_display()} to {delivery.message.recipient}"

    @admin.display(description="Message-ID")
    def message_id_header(self, delivery):
        return services.email_message_id(delivery.pk) if delivery.channel == Delivery.Channel.EMAIL else ""

    @admin.action(permissions=["change"], description="Resend the email (checked: it did not go)")
    def resend_after_checking(self, request, queryset):
        done = sum(services.delivery_resend(delivery=d, actor=request.user) for d in queryset)
        self._report(request, done, queryset.count(), "resent", "unknown or failed emails")

    @admin.action(permissions=["change"], description="Mark the email sent (checked: it went)")
    def mark_sent_after_checking(self, request, queryset):
        done = sum(services.delivery_mark_sent(delivery=d, actor=request.user) for d in queryset)
        self._report(request, done, queryset.count(), "marked sent", "unknown emails")

    def _report(self, request, done, chosen, verb, which):
        self.message_user(request, f"{done} of {chosen} {verb}.", messages.SUCCESS if done else messages.WARNING)
        if done < chosen:
            self.message_user(
                request, f"Only {which} can be {verb}; the others were left as they were.", messages.WARNING
            )

    def has_add_permission(self, request):
        return False
