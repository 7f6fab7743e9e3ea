"""Scopes: each API view names the scope each of its methods needs."""

from rest_framework.permissions import BasePermission

from api.models import READ_REFERRALS


def token_scopes(request) -> frozenset[str]:
    """The scopes of the request's token that its client still holds (narrowing a client's scopes narrows its
    tokens at once)."""
    token = request.auth
    user = request.user
    if token is None or not hasattr(token, "scope") or not hasattr(user, "api_client"):
        return frozenset()
    return frozenset(token.scope.split()) & user.api_client.scopes


class HasScope(BasePermission):
    """The token must hold the scope the view needs for the request's method: `required_scopes`, a dict of
    method to scope ("*" for every other method), or a single scope for every method. Safe methods default to
    referrals:read."""

    message = "This token does not hold the scope this request needs."

    def has_permission(self, request, view):
        needed = required_scope(view, request.method)
        if needed not in token_scopes(request):
            self.message = f"This token does not hold the scope this request needs: {needed}."
            return False
        return True


def required_scope(view, method: str) -> str:
    scopes = getattr(view, "required_scopes", READ_REFERRALS)
    if isinstance(scopes, str):
        return scopes
    return scopes.get(method, scopes.get("*", READ_REFERRALS))
