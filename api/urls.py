from django.urls import include, path
from oauth2_provider.views import TokenView

from api.fhir import views as fhir_views
from hjp.accounts.middleware import bearer_token_only

# Only the token endpoint of django-oauth-toolkit: clients use client credentials, there are no authorisation pages.
urlpatterns = [
    path("oauth/token/", bearer_token_only(TokenView.as_view()), name="oauth_token"),
    path("api/v1/", include("api.v1.urls")),
    path("fhir/", include("api.fhir.urls")),
    # FHIR clients POST a transaction to the base URL as configured, often without its slash: no redirect for it.
    path("fhir", fhir_views.Transaction.as_view(), name="fhir_base"),
]
