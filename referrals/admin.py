from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from hjp.core.admin import PatientRecordAdminMixin
from referrals.models import ProblemCategory, ProblemSubCategory, Referral, ReferralStatusChange
from referrals.services.retention import retention_preview

# References listed per partnership on the retention page; the command lists them all.
RETENTION_PAGE_REFERENCES = 50


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
    """Admins see references and states only: patient details stay out of the admin. The retention page
    (`retention/`) shows what the next anonymisation run will take."""

    change_list_template = "admin/referrals/referral_change_list.html"

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

    def get_urls(self):
        retention = self.admin_site.admin_view(self.retention_view)
        return [path("retention/", retention, name="referrals_referral_retention"), *super().get_urls()]

    def retention_view(self, request):
        """What the next retention run would anonymise (a dry run): counts and references per partnership.
        References are pseudonymous; no patient details are shown."""
        context = {
            **self.admin_site.each_context(request),
            "title": "Retention: what the next run will anonymise",
            "opts": self.model._meta,
            "preview": retention_preview(references=RETENTION_PAGE_REFERENCES),
            "listed": RETENTION_PAGE_REFERENCES,
        }
        return TemplateResponse(request, "admin/referrals/retention.html", context)
