from django.urls import include, path
from oauth2_provider.views import TokenView

from hjp.accounts.middleware import bearer_token_only

# Only the token endpoint of django-oauth-toolkit: clients use client credentials, there are no authorisation pages.
urlpatterns = [
    path("oauth/token/", bearer_token_only(TokenView.as_view()), name="oauth_token"),
    path("api/v1/", include("api.v1.urls")),
    path("fhir/", include("api.fhir.urls")),
]
