from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hjp.accounts import views as account_views
from hjp.accounts.forms import EmailAuthenticationForm
from hjp.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/password_reset/", account_views.password_reset, name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("hjp.accounts.urls")),
    path("inbox/", include("hjp.notifications.urls")),
    path("referrals/", include("referrals.urls")),
    path("casework/", include("casework.urls")),
    path("outcomes/", include("outcomes.urls")),
    # The patient's own link (no sign-in): outcomes.patient_voice.
    path("p/", include("outcomes.patient_urls")),
    # Open Referral UK: the partnership's advice services, public (casework.oruk).
    path("open-referral/", include("casework.open_referral_urls")),
    path("admin/", admin.site.urls),
    # The interface for systems: /oauth/token/ and the REST API under /api/v1/ (api/urls.py).
    path("", include("api.urls")),
]
