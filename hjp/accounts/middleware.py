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
since a lost or stolen device often comes with an open session."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse

from hjp.accounts.factors import KINDS, VERIFIED_AT_SESSION_KEY, has_any_device, has_primary_device, kind_of
from hjp.accounts.roles import must_use_second_factor

VERIFY = "verify"
ENROL = "enrol"

ALWAYS_OPEN = frozenset({"logout"})
OPEN_WHILE = {
    VERIFY: frozenset({"accounts:verify"}).union(*(kind.verify_url_names for kind in KINDS)),
    ENROL: frozenset({"accounts:enrol"}).union(*(kind.enrol_url_names for kind in KINDS)),
}
STAGE_PAGE = {VERIFY: "accounts:verify", ENROL: "accounts:enrol"}


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
