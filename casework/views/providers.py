"""The directory of partner advice providers, which supervisors keep."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from casework import forms, oruk, permissions, selectors, services
from casework.views.pages import audit_page, form_page, posted
from hjp.accounts.models import Organisation
from hjp.accounts.roles import ADVICE_WORKERS, SUPERVISORS, role_required, roles_for
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.core.forms import error_summary

Action = AuditEvent.Action


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


@require_http_methods(["GET", "POST"])
@role_required(SUPERVISORS, message="Only supervisors keep the directory.")
def provider_import(request):
    """Import providers from an Open Referral UK feed address or JSON file (to the first service the supervisor
    supervises, as adding does)."""
    user = request.user
    organisation = Organisation.objects.get(pk=min(roles_for(user).supervisor_org_ids))
    form = forms.ProviderImportForm(posted(request), request.FILES or None)
    context = {"form": form, "organisation": organisation, "errors": None}
    if request.method == "POST" and form.is_valid():
        try:
            upload = form.cleaned_data["feed_file"]
            if upload is not None and upload.size > oruk.MAX_FEED_BYTES:
                raise oruk.OrukError("The file is too large to import.")
            raw = upload.read() if upload is not None else oruk.fetch_feed(form.cleaned_data["feed_url"])
            records, problems = oruk.provider_records(oruk.parse(raw))
            result = services.providers_import(actor=user, organisation=organisation, records=records)
        except (oruk.OrukError, DomainError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{result.created} provider(s) added, {result.updated} updated.")
            for line in [*problems, *result.problems]:
                messages.warning(request, line)
            return redirect("casework:providers")
    context["errors"] = error_summary(form) if form.is_bound else None
    audit_page(request, Action.VIEW, obj=organisation, summary="provider import")
    return render(request, "casework/provider_import.html", context, status=400 if form.errors else 200)
