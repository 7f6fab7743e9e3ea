"""The admin site, which needs the second factor as every other page does.

The middleware (hjp.accounts.middleware) already keeps a user who has not passed their second factor away from
/admin/; this site is the second wall: django-otp's OTPAdminSite, which treats an unverified staff user as no
staff at all. Signing in happens on hjp's own sign-in page (password, then the second step), never on a
password-only admin form."""

from django.contrib.admin.sites import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.decorators import method_decorator
from django_otp.admin import OTPAdminSite


class SecondFactorAdminSite(OTPAdminSite):
    login_form = AdminSite.login_form
    login_template = AdminSite.login_template

    def __init__(self, name="admin"):
        super().__init__(name)

    @method_decorator(login_not_required)
    def login(self, request, extra_context=None):
        if not request.user.is_authenticated:
            return redirect_to_login(
                request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name)
            )
        return super().login(request, extra_context)
