"""The OpenAPI schema's account of authentication: OAuth 2.0 client credentials at /oauth/token/, and the scope
each operation needs (api.permissions.HasScope), and the documentation pages served from this installation."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.permissions import required_scope
from hjp.accounts.middleware import bearer_token_only

TOKEN_URL = "/oauth/token/"


class ClientCredentialsScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ClientAuthentication"
    name = "clientCredentials"

    def get_security_requirement(self, auto_schema):
        return {self.name: [required_scope(auto_schema.view, auto_schema.method)]}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Ask for a token with your client id and secret (HTTP Basic), grant_type=client_credentials.",
            "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": settings.API_SCOPES}},
        }


class DocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
    url_name = "api_v1:schema"


schema_view = bearer_token_only(SpectacularAPIView.as_view())
docs_view = bearer_token_only(DocsView.as_view())
