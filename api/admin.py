from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from api.models import SCOPES, ApiClient
from api.services import api_client_create, api_client_revoke, check_client_scopes
from hjp.accounts.models import Organisation


class ApiClientCreationForm(forms.ModelForm):
    """Registering a client: its organisation, name, scopes and expiry. The OAuth application and the system
    account it acts as are made by `api_client_create`; the secret is shown once, on the next page."""

    scopes = forms.MultipleChoiceField(
        choices=list(SCOPES.items()), widget=forms.CheckboxSelectMultiple, help_text="A token never holds more."
    )

    class Meta:
        model = ApiClient
        fields = ["name", "organisation", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            kind__in=[Organisation.Kind.HEALTH, Organisation.Kind.ADVICE]
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("organisation") and cleaned.get("scopes"):
            try:
                check_client_scopes(organisation=cleaned["organisation"], scopes=cleaned["scopes"])
            except ValidationError as error:
                self.add_error("scopes", error.messages)
        return cleaned


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "allowed_scopes", "client_id", "expires_at", "revoked_at")
    list_select_related = ("organisation", "application")
    list_filter = ("organisation",)
    search_fields = ("name",)
    actions = ["revoke"]
    readonly_fields = ("organisation", "client_id", "service_user", "created_by", "created_at", "revoked_at")
    fields = ("name", "organisation", "client_id", "allowed_scopes", "expires_at", "revoked_at", "service_user")

    @admin.display(description="client id")
    def client_id(self, client):
        return client.application.client_id

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiClientCreationForm
            kwargs["fields"] = ["name", "organisation", "scopes", "expires_at"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["name", "organisation", "scopes", "expires_at"] if obj is None else self.fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = api_client_create(
            actor=request.user,
            organisation=form.cleaned_data["organisation"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk = created.client.pk
        messages.warning(
            request,
            f"Client id: {created.client.application.client_id} Client secret: {created.client_secret} "
            "Give both to the system's operators now, by a secure channel: the secret is not kept and cannot be "
            "shown again.",
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log keeps naming the client's system account

    @admin.action(description="Revoke the selected clients (their tokens stop working at once)")
    def revoke(self, request, queryset):
        for client in queryset:
            api_client_revoke(actor=request.user, client=client)
        self.message_user(request, f"{queryset.count()} client(s) revoked.")
