from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect, render

from hjp.accounts.roles import roles_for
from hjp.core.navigation import HOME_URL_NAMES


def home(request):
    """Each role lands on a home page of its own."""
    role = roles_for(request.user).primary_role
    if role is None:
        return render(request, "core/no_role.html", status=403)
    return redirect(HOME_URL_NAMES[role])


@login_not_required
def healthz(request):
    return JsonResponse({"status": "ok"})
