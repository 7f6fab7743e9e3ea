"""django-oauth-toolkit's hooks: which scopes a client may ask for, and which clients get tokens at all."""

import hashlib

from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.settings import oauth2_settings

from api.models import ApiClient


def active_client_of(application) -> ApiClient | None:
    """The ApiClient of a django-oauth-toolkit Application, if it has one and it is neither revoked nor expired."""
    try:
        client = application.api_client
    except (ApiClient.DoesNotExist, AttributeError):
        return None
    return client if client.is_active() else None


class ClientScopes(BaseScopes):
    """A token holds at most its client's allowed scopes; asking for none gives all of them."""

    def get_all_scopes(self):
        return oauth2_settings.SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = active_client_of(application) if application is not None else None
        return sorted(client.scopes) if client is not None else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request, *args, **kwargs)


class ClientValidator(OAuth2Validator):
    """Only an active ApiClient's application gets tokens (an Application made by hand in the admin, without
    one, gets none); a token is read with its client and the client's system account in one query."""

    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is not None and active_client_of(application) is None:
            request.client = None
            return None
        return application

    def _load_access_token(self, token):
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            get_access_token_model()
            .objects.select_related("application__api_client__service_user")
            .filter(token_checksum=checksum)
            .first()
        )
