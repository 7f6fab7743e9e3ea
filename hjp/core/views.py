from django.shortcuts import redirect, render

from hjp.accounts.roles import SUBJECT_ACCESS_PERMISSION, roles_for
from hjp.core.navigation import HOME_URL_NAMES

# Granted in the admin (declared on referrals.Patient); named here as a string: the core imports no app.


def home(request):
    """Each role lands on a home page of its own."""
    role = roles_for(request.user).primary_role
    if role is None and request.user.has_perm(SUBJECT_ACCESS_PERMISSION):  # the data protection role alone
        return redirect("outcomes:subject_access")
    if role is None:
        return render(request, "core/no_role.html", status=403)
    return redirect(HOME_URL_NAMES[role])
