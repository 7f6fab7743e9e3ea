from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from hjp.accounts.models import Funding, Membership, Organisation, Partnership, Team, User


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
    list_filter = ("is_active", "is_staff", "memberships__role")
    search_fields = ("email", "full_name")
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal details", {"fields": ("full_name",)}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "ods_code", "shares_referrals_internally")
    list_filter = ("kind", "shares_referrals_internally")
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


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ("name", "advice_organisation", "start_date", "end_date", "retention_years")
    search_fields = ("name",)
    filter_horizontal = ("health_organisations",)
    inlines = [FundingInline]
    list_select_related = ("advice_organisation",)


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    list_display = ("partnership", "funder", "amount", "period_start", "period_end")
    list_select_related = ("partnership",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "organisation", "team", "profession", "partnership")
    list_filter = ("role", "profession")
    search_fields = ("user__email", "user__full_name")
    autocomplete_fields = ("user", "organisation", "team", "partnership")
    list_select_related = ("user", "organisation", "team", "partnership")
