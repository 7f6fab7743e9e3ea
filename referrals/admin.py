from django.contrib import admin

from hjp.core.admin import PatientRecordAdminMixin
from referrals.models import ProblemCategory, ProblemSubCategory, Referral, ReferralStatusChange


class SubCategoryInline(admin.TabularInline):
    model = ProblemSubCategory
    extra = 0
    fields = ("name", "code", "position")


@admin.register(ProblemCategory)
class ProblemCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position")
    list_editable = ("position",)
    inlines = [SubCategoryInline]


@admin.register(ProblemSubCategory)
class ProblemSubCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "category", "position")
    list_editable = ("position",)
    list_filter = ("category",)
    list_select_related = ("category",)
    ordering = ("category__position", "position", "name")


class StatusChangeInline(PatientRecordAdminMixin, admin.TabularInline):
    model = ReferralStatusChange
    extra = 0
    readonly_fields = ("from_status", "to_status", "actor", "reason", "at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(PatientRecordAdminMixin, admin.ModelAdmin):
    """Admins see references and states only: patient details stay out of the admin."""

    list_display = ("reference", "status", "referring_organisation", "advice_organisation", "submitted_at")
    list_filter = ("status", "advice_organisation", "referring_organisation")
    search_fields = ("reference",)
    fields = (
        "reference",
        "status",
        "case_status",
        "referring_organisation",
        "advice_organisation",
        "partnership",
        "submitted_at",
    )
    readonly_fields = fields
    inlines = [StatusChangeInline]
    list_select_related = ("referring_organisation", "advice_organisation")

    def has_add_permission(self, request):
        return False
