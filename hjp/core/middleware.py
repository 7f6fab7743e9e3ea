class NoStoreForSignedInUsersMiddleware:
    """Pages for signed-in users may hold patient details: no browser or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
        return response


# Browser features no page of hjp uses are switched off for every page (and anything a page might embed);
# WebAuthn (passkeys, security keys) stays on for hjp's own origin.
PERMISSIONS_POLICY = ", ".join(
    [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
        "publickey-credentials-get=(self)",
        "publickey-credentials-create=(self)",
    ]
)


class PermissionsPolicyMiddleware:
    """Sends the Permissions-Policy header on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
