"""Bearer tokens of system clients: the only way into the API (a session cookie is not accepted)."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed

from api.oauth import active_client_of
from hjp.audit.context import audit_context_set_user


class ClientAuthentication(OAuth2Authentication):
    """django-oauth-toolkit's bearer token check, acting as the token's client's system account: returns
    (client.service_user, token). A token of a revoked or expired client, or of an application that is no
    client, is refused at once. The request's audit context names the system account, so every audit entry the
    request writes names the client."""

    www_authenticate_realm = "hjp"

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _, token = result
        client = active_client_of(token.application) if token.application is not None else None
        if client is None:
            raise AuthenticationFailed("This client is revoked or expired: ask the hjp administrators.")
        user = client.service_user
        user.api_client = client  # the client read with the token, without reading it again
        audit_context_set_user(user)
        return user, token
