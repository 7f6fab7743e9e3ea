"""The advice service's page for referrers: the list of the pages a user may read, one page (with the
partnership's upcoming advice clinics), and its edit form (supervisors of the advice organisation and the
partnership's managers). No patient data is shown; an edit is audited by its service."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hjp.accounts.roles import ADVICE_WORKERS, MANAGERS, REFERRERS, role_required
from hjp.core.formpage import submit_form
from hjp.core.forms import error_summary
from referrals.service_page import permissions, selectors, services
from referrals.service_page.forms import ServicePageForm
from referrals.service_page.models import ServicePage

READERS = (REFERRERS, ADVICE_WORKERS, MANAGERS)


@role_required(*READERS, message="No service pages here.")
def service_page_list(request):
    """The pages of the user's partnerships; with one, that page itself."""
    partnerships = selectors.service_partnerships(user=request.user)
    if len(partnerships) == 1:
        return redirect("referrals:service_page", pk=partnerships[0].pk)
    return render(request, "referrals/service_page/list.html", {"partnerships": partnerships})


@role_required(*READERS, message="No such service page.")
def service_page(request, pk):
    user = request.user
    partnership = selectors.get_service_partnership_for_user(user, pk)
    sees_clinics = selectors.sees_clinics(user)
    return render(
        request,
        "referrals/service_page/detail.html",
        {
            "partnership": partnership,
            "page": selectors.page_of(partnership),
            "sees_clinics": sees_clinics,
            "sessions": selectors.page_sessions(user=user, partnership=partnership) if sees_clinics else [],
            "can_edit": permissions.can_edit(user, partnership),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(ADVICE_WORKERS, MANAGERS, message="No such service page.")
def service_page_edit(request, pk):
    user = request.user
    partnership = selectors.get_service_partnership_for_user(user, pk)
    if not permissions.can_edit(user, partnership):
        raise Http404("No such service page.")
    page = selectors.page_of(partnership) or ServicePage(partnership=partnership)
    form = ServicePageForm(request.POST or None, instance=page)
    submission = submit_form(
        request,
        form,
        lambda data: services.service_page_save(partnership=partnership, actor=user, version=form.version, **data),
    )
    if submission.saved:
        messages.success(request, "The service page is saved: the partnership's referrers read it now.")
        return redirect("referrals:service_page", pk=partnership.pk)
    return render(
        request,
        "referrals/service_page/edit.html",
        {"form": form, "partnership": partnership, "errors": error_summary(form)},
        status=400 if request.method == "POST" else 200,
    )
