"""Rate limits per client (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["client"]), counted in the shared cache."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """Requests per client (by its client id), whatever its tokens; requests without a client's token by address.
    Beyond the rate: 429 with Retry-After."""

    scope = "client"

    def get_rate(self):
        # Read when used, not at import: the rate is a setting a test or a deployment may change.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        client = getattr(request.user, "api_client", None)
        ident = f"client:{client.application.client_id}" if client is not None else f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
