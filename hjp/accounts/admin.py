from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.template.response import TemplateResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hjp.accounts import services
from hjp.accounts.models import Funding, InKindSupport, Membership, Organisation, Partnership, Team, User
from hjp.core.errors import DomainError
from hjp.core.forms import ReasonForm

# django-otp's own device admins would let an admin delete a user's factors (an unaudited reset the user is never
# told of) or plant a device with a key of their choosing. Factors change only through the user's own pages and
# the audited reset (the "Reset two-step sign-in" action below); django-otp-webauthn's admin is not installed.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("organisation", "team", "partnership")


class HjpUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class HjpUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = HjpUserChangeForm
    add_form = HjpUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_system_account", "memberships__role")
    search_fields = ("email", "full_name")
    inlines = [MembershipInline]
    actions = ["reset_second_factors"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)

    @admin.action(description="Reset two-step sign-in (lost device)")
    def reset_second_factors(self, request, queryset):
        """Remove the chosen users' second factors (hjp.accounts.services.user_reset_second_factors), after a
        page that asks why; each user is told and sets one up again at their next sign-in."""
        form = ReasonForm(
            request.POST if "reason" in request.POST else None,
            label="Why reset their sign-in?",
            required_message="Say why their sign-in is reset",
        )
        if form.is_bound and form.is_valid():
            for user in queryset:
                try:
                    services.user_reset_second_factors(user=user, by=request.user, reason=form.cleaned_data["reason"])
                except DomainError as exc:
                    self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
                else:
                    self.message_user(request, f"{user}: two-step sign-in reset; they have been told.")
            return None
        return TemplateResponse(
            request,
            "admin/accounts/user/reset_second_factors.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reset two-step sign-in",
                "users": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "ods_code",
        "list_size",
        "shares_referrals_internally",
        "requires_two_factor_for_referrers",
    )
    list_filter = ("kind", "shares_referrals_internally", "requires_two_factor_for_referrers")
    search_fields = ("name", "ods_code")
    inlines = [TeamInline]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation")
    search_fields = ("name", "organisation__name")
    list_select_related = ("organisation",)


class FundingInline(admin.TabularInline):
    model = Funding
    extra = 0


class InKindSupportInline(admin.TabularInline):
    model = InKindSupport
    extra = 0


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ("name", "advice_organisation", "start_date", "end_date", "retention_years")
    search_fields = ("name",)
    filter_horizontal = ("health_organisations",)
    inlines = [FundingInline, InKindSupportInline]
    list_select_related = ("advice_organisation",)


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    list_display = ("partnership", "funder", "amount", "period_start", "period_end")
    list_select_related = ("partnership",)


@admin.register(InKindSupport)
class InKindSupportAdmin(admin.ModelAdmin):
    list_display = ("partnership", "kind", "provider", "estimated_value", "period_start", "period_end")
    list_filter = ("kind",)
    list_select_related = ("partnership",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "team", "profession", "is_champion", "partnership")
    list_filter = ("role", "profession", "is_champion")
    search_fields = ("user__email", "user__full_name")
    autocomplete_fields = ("user", "organisation", "team", "partnership")
    list_select_related = ("user", "organisation", "team", "partnership")
