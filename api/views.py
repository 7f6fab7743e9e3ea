"""What every view of the API for systems (api.v1 and api.fhir) shares."""

from hjp.accounts.middleware import bearer_token_only


class ClientView:
    """Put first in the bases of a DRF view: the view authenticates by bearer token alone (the settings'
    REST_FRAMEWORK: ClientAuthentication, a scope, the client's rate limit), so neither the sign-in redirect nor
    the second factor applies and a session cookie gives no access (and no CSRF hole)."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return bearer_token_only(super().as_view(*args, **kwargs))
