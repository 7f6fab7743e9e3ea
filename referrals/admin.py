from django.contrib import admin

from referrals.models import ProblemCategory, Referral, ReferralStatusChange


@admin.register(ProblemCategory)
class ProblemCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position")
    list_editable = ("position",)


class StatusChangeInline(admin.TabularInline):
    model = ReferralStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "reason", "at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Admins see references and states only: patient details stay out of the admin."""

    list_display = ("reference", "status", "referring_organisation", "advice_organisation", "submitted_at")
    list_filter = ("status", "advice_organisation", "referring_organisation")
    search_fields = ("reference",)
    fields = ("reference", "status", "case_status", "referring_organisation", "advice_organisation", "partnership",
              "submitted_at")
    readonly_fields = fields
    inlines = [StatusChangeInline]
    list_select_related = ("referring_organisation", "advice_organisation")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
