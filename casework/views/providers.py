"""The directory of partner advice providers, which supervisors keep."""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from casework import forms, permissions, selectors, services
from casework.views.pages import form_page, posted
from hjp.accounts.models import Organisation
from hjp.accounts.roles import ADVICE_WORKERS, SUPERVISORS, role_required, roles_for


@role_required(ADVICE_WORKERS, message="No casework here.")
def providers(request):
    user = request.user
    return render(
        request,
        "casework/providers.html",
        {
            "providers": selectors.advice_providers(user=user).select_related("advice_organisation"),
            "is_supervisor": bool(roles_for(user).supervisor_org_ids),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS, message="Only supervisors keep the directory.")
def provider_form(request, pk=None):
    user = request.user
    roles = roles_for(user)
    provider = permissions.get_provider_for_supervisor(user, pk) if pk else None
    # A supervisor of several services adds to the first; editing keeps the provider's own service.
    organisation = (
        provider.advice_organisation if provider else Organisation.objects.get(pk=min(roles.supervisor_org_ids))
    )
    form = forms.ProviderForm(posted(request), instance=provider)
    directory = reverse("casework:providers")
    return form_page(
        request,
        form=form,
        title="Edit provider" if provider else "Add a provider",
        submit_label="Save",
        # Only adding is guarded by the form's one-time token: sending an edit twice saves the same values.
        perform=lambda d: services.provider_save(
            actor=user,
            organisation=organisation,
            data=d,
            provider=provider,
            submission_token=form.submission_token if provider is None else None,
        ),
        success="Provider saved.",
        next_url=directory,
        back_url=directory,
        audit_obj=provider or organisation,
        heading_obj=organisation,
    )
