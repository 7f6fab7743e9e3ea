"""The one place the second factor is enforced.

After the password, a signed-in user is in one of three stages (`second_factor_stage`):
- VERIFY: they hold a second factor and have not passed it in this session: only the verification page (and
  the endpoints of the kinds they hold: a passkey's sign-in ceremony) and signing out;
- ENROL: they must have a second factor (hjp.accounts.roles: advice workers, managers, funders, admins, and
  referrers of an organisation that requires it) and hold no passkey or authenticator app yet: only the
  enrolment pages (a passkey's making ceremony among them) and signing out;
- None: every page their roles allow (the apps' own gates still apply).
Every other page, the admin included, sends them to the page of their stage and back afterwards.

A session that passed the second factor with a device that is gone since (a supervisor's or admin's reset, or the
device removed from another session) is signed out: the password alone must not lead to setting up a new factor,
since a lost or stolen device often comes with an open session.

Which device verified the session is django-otp's OTPMiddleware's work (request.user.otp_device, is_verified()):
hjp's subclass below checks it against the devices read with the user (hjp.accounts.backends) instead of
reading the device again, with the same outcome."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware

from hjp.accounts.factors import (
    KINDS,
    VERIFIED_AT_SESSION_KEY,
    confirmed_device,
    has_any_device,
    has_primary_device,
    kind_of,
    knows_confirmed_devices,
)
from hjp.accounts.roles import must_use_second_factor

VERIFY = "verify"
ENROL = "enrol"

ALWAYS_OPEN = frozenset({"logout"})
OPEN_WHILE = {
    VERIFY: frozenset({"accounts:verify"}).union(*(kind.verify_url_names for kind in KINDS)),
    ENROL: frozenset({"accounts:enrol"}).union(*(kind.enrol_url_names for kind in KINDS)),
}
STAGE_PAGE = {VERIFY: "accounts:verify", ENROL: "accounts:enrol"}


def bearer_token_only(view):
    """Mark a view that authenticates each request by a bearer token alone (the API for systems, /oauth/token/):
    neither the sign-in redirect nor the second-factor stages apply to it, and a session cookie gives it no user."""
    view = login_not_required(view)
    view.bearer_token_only = True
    return view


def second_factor_stage(request) -> str | None:
    """VERIFY, ENROL or None (see the module docstring) for the signed-in user of `request`."""
    user = request.user
    if user.is_verified():
        kind = kind_of(user.otp_device)
        if kind is None or kind.primary or not must_use_second_factor(user):
            return None
        # Signed in with a recovery code and no authenticator left: they set one up before anything else.
        return None if has_primary_device(user) else ENROL
    if has_any_device(user):
        return VERIFY
    return ENROL if must_use_second_factor(user) else None


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "bearer_token_only", False):
            return None  # the session's user is not the API's: the view ignores it
        if not request.user.is_authenticated:
            return None  # LoginRequiredMiddleware sends them to sign in
        if request.session.get(VERIFIED_AT_SESSION_KEY) is not None and not request.user.is_verified():
            logout(request)
            messages.info(request, "Your two-step sign-in was changed, so you were signed out. Sign in again.")
            return HttpResponseRedirect(reverse("login"))
        stage = second_factor_stage(request)
        request.second_factor_stage = stage
        if stage is None or request.resolver_match.view_name in ALWAYS_OPEN | OPEN_WHILE[stage]:
            return None
        target = reverse(STAGE_PAGE[stage])
        if request.method == "GET":
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
        return HttpResponseRedirect(target)


class OTPMiddleware(DjangoOTPMiddleware):
    """django-otp's OTPMiddleware, whose check of the session's device (it exists, is the user's and is
    confirmed; otherwise otp_device is None and the session forgets it) uses the user's confirmed devices read
    with the user (hjp.accounts.backends.AccountBackend) rather than a query of its own. A user read another
    way (by another backend) is checked by django-otp's own code."""

    def _verify_user_sync(self, request, user):
        if not knows_confirmed_devices(user):
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = confirmed_device(user, self._normalize_persistent_id(persistent_id)) if persistent_id else None
        user.otp_device = self._finalize_device(request, user, device)
        return user
