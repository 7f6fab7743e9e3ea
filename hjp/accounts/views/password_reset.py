from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hjp.accounts.forms import PasswordResetRequestForm
from hjp.accounts.services import password_reset_request
from hjp.core.forms import error_summary
from hjp.core.proxies import client_address


@login_not_required
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """Ask for a reset link. Whether the address has an account, and whether the hourly limits were reached,
    the user is sent to the same "check your email" page; the email itself goes from Celery."""
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"], ip_address=client_address(request))
        return redirect("password_reset_done")
    return render(request, "registration/password_reset_form.html", {"form": form, "errors": error_summary(form)})
