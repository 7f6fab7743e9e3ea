"""Sessions end 30 minutes after the last request (SESSION_COOKIE_AGE, pushed on by every request) and, however
active, SESSION_ABSOLUTE_SECONDS (10 hours by default) after the sign-in that began them.

The sign-in time is written into the session when Django signs someone in (the `user_logged_in` signal,
connected in CoreConfig.ready). A signed-in session without it, or older than the limit, is ended: the user
is signed out and sent to the sign-in page with a message saying why."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

SIGNED_IN_AT = "hjp_signed_in_at"
ENDED_MESSAGE = (
    "You were signed out because you had been signed in for {duration}, the longest a sign-in lasts. "
    "Sign in again to carry on."
)


def stamp_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in`: the moment the session's sign-in began (seconds since the epoch)."""
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = int(time.time())


def session_outlived(request) -> bool:
    signed_in_at = request.session.get(SIGNED_IN_AT)
    if not isinstance(signed_in_at, int):
        return True  # fail closed: a session whose sign-in time is unknown is not trusted
    return time.time() - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS


def _duration(seconds: int) -> str:
    """10 hours, 1 hour, 90 minutes."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class AbsoluteSessionLifetimeMiddleware:
    """Ends a session older than SESSION_ABSOLUTE_SECONDS since its sign-in. Place it after
    AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and session_outlived(request):
            logout(request)
            messages.warning(request, ENDED_MESSAGE.format(duration=_duration(settings.SESSION_ABSOLUTE_SECONDS)))
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
