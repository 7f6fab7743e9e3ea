"""Sessions end 30 minutes after the last request (SESSION_COOKIE_AGE, from SESSION_IDLE_SECONDS) and, however
active, SESSION_ABSOLUTE_SECONDS (10 hours by default) after the sign-in that began them.

The idle timer is the session's expiry in the session store, pushed on whenever the session is saved. A request
that changes nothing in the session saves it (one write, in a transaction) only when its expiry was last pushed
on a minute ago or more (a tenth of SESSION_IDLE_SECONDS, if that is shorter; IdleTimeoutMiddleware): a read-only
page costs no write, and a session ends at most that much sooner than SESSION_IDLE_SECONDS after its last
request, never later.

The sign-in time is written into the session when Django signs someone in (the `user_logged_in` signal,
connected in CoreConfig.ready). A signed-in session without it, or older than the limit, is ended: the user
is signed out and sent to the sign-in page with a message saying why."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

SIGNED_IN_AT = "hjp_signed_in_at"
# When the session's expiry was last pushed on (seconds since the epoch), and how often at most a request that
# changes nothing pushes it on.
EXTENDED_AT = "hjp_extended_at"
EXTEND_AFTER_SECONDS = 60


def extend_after_seconds() -> int:
    """A minute, or a tenth of the idle limit where that is shorter (a short limit must not end active sessions)."""
    return min(EXTEND_AFTER_SECONDS, settings.SESSION_COOKIE_AGE // 10)


ENDED_MESSAGE = (
    "You were signed out because you had been signed in for {duration}, the longest a sign-in lasts. "
    "Sign in again to carry on."
)


def stamp_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in`: the moment the session's sign-in began (seconds since the epoch)."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[EXTENDED_AT] = now  # signing in saves the session, which pushes its expiry on


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


class IdleTimeoutMiddleware:
    """Pushes the idle timer on at most once a minute (see the module docstring): instead of
    SESSION_SAVE_EVERY_REQUEST, marks a live session modified, so that SessionMiddleware saves it with a new
    expiry, when its expiry was last pushed on a minute ago or more (extend_after_seconds). A session saved for another reason has its
    stamp renewed in the same write. Place it right after SessionMiddleware, so it sees the response last."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = request.session
        extended_at = session.get(EXTENDED_AT)  # loads the session first: an expired one is empty then
        if session.is_empty():  # no session, or one that ended (signed out, expired): nothing to extend
            return response
        now = int(time.time())
        stale = not isinstance(extended_at, int) or not 0 <= now - extended_at < extend_after_seconds()
        if stale or session.modified:
            session[EXTENDED_AT] = now
        return response
