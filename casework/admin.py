from django import forms
from django.contrib import admin

from casework.models import AdviceProvider, Case
from hjp.core.admin import PatientRecordAdminMixin


class AdviceProviderAdminForm(forms.ModelForm):
    """The FHIR signing secret can be set, never read back: a blank field keeps the one saved."""

    class Meta:
        model = AdviceProvider
        fields = "__all__"  # noqa: DJ007
        widgets = {"fhir_signing_secret": forms.PasswordInput(render_value=False)}

    def clean_fhir_signing_secret(self):
        return self.cleaned_data["fhir_signing_secret"].strip() or self.instance.fhir_signing_secret


@admin.register(AdviceProvider)
class AdviceProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "advice_organisation", "specialisms", "is_active")
    list_filter = ("advice_organisation", "is_active")
    search_fields = ("name", "specialisms")
    form = AdviceProviderAdminForm


@admin.register(Case)
class CaseAdmin(PatientRecordAdminMixin, admin.ModelAdmin):
    """References and states only: patient details and case notes stay out of the admin."""

    list_display = ("reference", "state", "advisor", "opened_at", "closed_at")
    list_filter = ("state",)
    search_fields = ("reference",)
    fields = (
        "reference",
        "referral",
        "advisor",
        "state",
        "opened_at",
        "first_contact_at",
        "closed_at",
        "closure_reason",
        "version",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False
