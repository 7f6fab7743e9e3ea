"""Two-step sign-in: the second step, setting up an authenticator app, recovery codes, the user's own
"Sign-in and security" page, and a supervisor's reset of a colleague's lost device. Passkeys: a page to make
and name one, and django-otp-webauthn's JSON ceremony views (the browser's side is the package's own script,
static/js/passkeys.js around it), whose writes go through hjp.accounts.services.

Which of these pages a user may reach before passing their second factor is the middleware's decision
(hjp.accounts.middleware); the pages that change one's devices also ask for a recent verification."""

import base64
import logging
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp_webauthn import exceptions as webauthn_exceptions
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.utils import rewrite_exceptions

from hjp.accounts import selectors, services
from hjp.accounts.factors import (
    KINDS_BY_KEY,
    PRIMARY_KINDS,
    RECOVERY,
    has_primary_device,
    mark_session_verified,
    recently_verified,
)
from hjp.accounts.forms import AuthenticatorConfirmForm, PasskeyNameForm, SecondFactorCodeForm
from hjp.accounts.passkeys import at_localhost, passkeys_work_at, relying_party_id
from hjp.accounts.roles import SUPERVISORS, must_use_second_factor, role_required
from hjp.core.formpage import submit_form
from hjp.core.forms import ReasonForm, error_summary

NEW_CODES_SESSION_KEY = "hjp_new_recovery_codes"
WEBAUTHN_LOG = logging.getLogger("django_otp_webauthn")  # why a passkey ceremony failed, for whoever runs hjp


def _next_url(request, default: str = "home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


def _with_next(url_name: str, next_url: str, *args) -> str:
    return f"{reverse(url_name, args=args)}?{urlencode({'next': next_url})}"


def _signed_in_with(request, device) -> None:
    """The session has now passed the second factor with `device` (django_otp.login), noted with the time,
    under a new session key: the session's privileges changed."""
    otp_login(request, device)
    mark_session_verified(request.session, device)
    request.session.cycle_key()


def _set_up_with(request, device, next_url: str, done: str) -> HttpResponseRedirect:
    """A new primary device is set up: the session has passed the second factor with it, and a user with no
    recovery codes gets them now (shown once) before going on."""
    _signed_in_with(request, device)
    if not RECOVERY.devices_for(request.user).exists():
        request.session[NEW_CODES_SESSION_KEY] = services.recovery_codes_generate(user=request.user)
        return redirect(_with_next("accounts:recovery_codes", next_url))
    messages.success(request, done)
    return HttpResponseRedirect(next_url)


def _ask_again(request, next_url: str) -> HttpResponseRedirect:
    messages.info(request, "To change how you sign in, confirm it is you first.")
    return redirect(_with_next("accounts:verify", next_url))


def verify(request):
    """The second step: a form for each kind of second factor the user holds. Also asked again, by the pages
    that change one's devices, of a user who passed it more than a few minutes ago."""
    next_url = _next_url(request)
    held = [(kind, devices) for kind, devices in selectors.devices_by_kind(user=request.user) if devices]
    if not held:
        return redirect("accounts:security")
    methods = []
    for kind, devices in held:
        form = None
        if kind.code_label:
            sent = request.method == "POST" and request.POST.get(f"{kind.key}-kind") == kind.key
            form = SecondFactorCodeForm(
                request.POST if sent else None,
                kind=kind,
                devices=devices,
                label=kind.code_label,
                hint=kind.code_hint,
                required_message=kind.code_required_message,
            )
        methods.append({"kind": kind, "devices": devices, "form": form})
        if form is not None and form.is_bound and form.is_valid():
            result = services.second_factor_verify(
                user=request.user,
                kind_key=kind.key,
                device_id=form.cleaned_data.get("device") or None,
                code=form.cleaned_data["code"],
            )
            if result.passed:
                _signed_in_with(request, result.device)
                if kind is RECOVERY:
                    left = result.device.token_set.count()
                    messages.warning(
                        request,
                        f"You used a recovery code: {left} left. If you have lost your authenticator, set up a new "
                        "one and make new recovery codes on the Sign-in and security page.",
                    )
                return HttpResponseRedirect(next_url)
            form.add_error("code", result.refusal)
    forms_ = [m["form"] for m in methods if m["form"] is not None]
    return render(
        request,
        "accounts/verify.html",
        {
            "methods": methods,
            "next": next_url,
            "errors": error_summary(*forms_),
            "again": request.user.is_verified(),
        },
    )


def enrol(request):
    """Set up a second factor: the kinds a user can add, each with its page."""
    return render(
        request,
        "accounts/enrol.html",
        {
            "kinds": PRIMARY_KINDS,
            "next": _next_url(request),
            "required": must_use_second_factor(request.user),
            "has_primary": has_primary_device(request.user),
        },
    )


def totp_add(request):
    """Set up an authenticator app: a QR code drawn here (and its secret as text), confirmed by a code."""
    next_url = _next_url(request)
    if has_primary_device(request.user) and not recently_verified(request):
        return _ask_again(request, request.get_full_path())
    device = services.totp_device_start(user=request.user)
    form = AuthenticatorConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        result = services.totp_device_confirm(
            user=request.user, device_id=device.pk, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
        )
        if result.passed:
            return _set_up_with(request, result.device, next_url, "Your authenticator app is set up.")
        form.add_error("code", result.refusal)
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/totp_add.html",
        {
            "form": form,
            "errors": error_summary(form),
            "next": next_url,
            "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            "secret": secret,
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        },
    )


def passkey_add(request):
    """Set up a passkey: the browser makes it (the package's script and the ceremony views below), then the
    user's name for it, posted with this form, makes it count."""
    next_url = _next_url(request)
    if has_primary_device(request.user) and not recently_verified(request):
        return _ask_again(request, request.get_full_path())
    form = PasskeyNameForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        result = services.passkey_confirm(
            user=request.user, device_id=form.cleaned_data["credential"], name=form.cleaned_data["name"]
        )
        if result.passed:
            return _set_up_with(request, result.device, next_url, "Your passkey is set up.")
        form.add_error("credential", result.refusal)
    return render(
        request,
        "accounts/passkey_add.html",
        {
            "form": form,
            "errors": error_summary(form),
            "next": next_url,
            "works_here": passkeys_work_at(relying_party_id(request)),
            "localhost_url": at_localhost(request),
        },
    )


def recovery_codes(request):
    """New recovery codes, shown once: they are taken from the session as the page is drawn."""
    codes = request.session.pop(NEW_CODES_SESSION_KEY, None)
    if not codes:
        messages.info(request, "Recovery codes are shown only once. Make new ones if you did not keep them.")
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)})


@require_POST
def recovery_codes_regenerate(request):
    if not recently_verified(request):
        return _ask_again(request, reverse("accounts:security"))
    if not has_primary_device(request.user):
        messages.error(request, "Set up an authenticator app first; recovery codes stand in for it.")
        return redirect("accounts:security")
    request.session[NEW_CODES_SESSION_KEY] = services.recovery_codes_generate(user=request.user)
    return redirect(_with_next("accounts:recovery_codes", reverse("accounts:security")))


def security(request):
    """Sign-in and security: the user's second factors, kind by kind."""
    by_kind = selectors.devices_by_kind(user=request.user)
    recovery_left = sum(device.token_set.count() for kind, devices in by_kind if kind is RECOVERY for device in devices)
    return render(
        request,
        "accounts/security.html",
        {
            "by_kind": [(kind, devices) for kind, devices in by_kind if kind.primary],
            "has_primary": any(devices for kind, devices in by_kind if kind.primary),
            "recovery_left": recovery_left,
            "has_recovery": any(devices for kind, devices in by_kind if kind is RECOVERY),
            "required": must_use_second_factor(request.user),
        },
    )


def device_remove(request, kind, pk):
    factor = KINDS_BY_KEY.get(kind)
    device = factor.devices_for(request.user).filter(pk=pk).first() if factor is not None else None
    if device is None:
        raise Http404("No such page.")
    if not recently_verified(request):
        return _ask_again(request, request.get_full_path())
    form = forms.Form(request.POST if request.method == "POST" else None)
    submission = submit_form(request, form, lambda _: services.second_factor_remove(user=request.user, device=device))
    if submission.saved:
        messages.success(request, f"{factor.label} '{device.name}' removed.")
        return redirect("accounts:security")
    return render(
        request,
        "accounts/device_remove.html",
        {"kind": factor, "device": device, "form": form, "errors": error_summary(form)},
    )


@role_required(SUPERVISORS)
def people(request):
    """A supervisor's colleagues, whose lost second factor they can reset."""
    return render(request, "accounts/people.html", {"people": selectors.organisation_people(by=request.user)})


@role_required(SUPERVISORS)
def reset_second_factors(request, pk):
    person = selectors.get_user_to_reset_or_404(by=request.user, pk=pk)
    if not recently_verified(request):
        return _ask_again(request, request.get_full_path())
    form = ReasonForm(
        request.POST if request.method == "POST" else None,
        label="Why reset their sign-in?",
        required_message="Say why their sign-in is reset",
    )
    submission = submit_form(
        request,
        form,
        lambda data: services.user_reset_second_factors(user=person, by=request.user, reason=data["reason"]),
    )
    if submission.saved:
        messages.success(
            request,
            f"{person.get_full_name() or person.email}'s two-step sign-in is reset. They set it up again when they "
            "next sign in, and have been told in their inbox and by email.",
        )
        return redirect("accounts:people")
    return render(
        request, "accounts/reset_second_factors.html", {"person": person, "form": form, "errors": error_summary(form)}
    )


class PasskeyRegistrationMixin:
    """Making a passkey asks for a recent second factor of a user who has one, as adding an authenticator app
    does (the middleware has already kept out users who still have to pass it)."""

    def check_can_register(self):
        if has_primary_device(self.request.user) and not recently_verified(self.request):
            raise webauthn_exceptions.NotVerified(detail="To add a passkey, reload the page and confirm it is you.")


class PasskeyRegisterBegin(PasskeyRegistrationMixin, webauthn_views.BeginCredentialRegistrationView):
    def post(self, *args, **kwargs):
        services.passkey_registration_begin(user=self.request.user)
        return super().post(*args, **kwargs)


class PasskeyRegisterComplete(PasskeyRegistrationMixin, webauthn_views.CompleteCredentialRegistrationView):
    """The browser's new passkey, checked and stored not yet counted: the passkey page's form names it. (The
    package's own view would also mark the session as verified by it; here that waits for the name.)"""

    def post(self, *args, **kwargs):
        user, state, helper = self.get_user(), self.get_state(), self.get_helper()

        def ceremony():
            with rewrite_exceptions(logger=WEBAUTHN_LOG):
                return helper.register_complete(user=user, state=state, data=self.request.data)

        result = services.passkey_register(user=user, ceremony=ceremony)
        if not result.passed:
            return JsonResponse({"detail": result.refusal, "code": "refused"}, status=422)
        return JsonResponse({"id": result.device.pk})


class PasskeyAuthBegin(webauthn_views.BeginCredentialAuthenticationView):
    """The challenge for the second step, naming the user's passkeys (never for anyone signed out: passwordless
    sign-in is off, and the sign-in requirement sends them to the password first)."""


class PasskeyAuthComplete(webauthn_views.CompleteCredentialAuthenticationView):
    """The browser's signed answer: accepted, the session has passed the second factor (under a new key, noted
    with the time) and the script goes where the user was going; refused, it says so. Both are audited."""

    def post(self, *args, **kwargs):
        user, state, helper = self.get_user(), self.get_state(), self.get_helper()

        def ceremony():
            with rewrite_exceptions(logger=WEBAUTHN_LOG):
                device = helper.authenticate_complete(user=user, state=state, data=self.request.data)
            self.check_device_usable(device)
            return device

        result = services.passkey_verify(user=user, ceremony=ceremony)
        if not result.passed:
            return JsonResponse({"detail": result.refusal, "code": "refused"}, status=403)
        _signed_in_with(self.request, result.device)
        return JsonResponse({"id": result.device.pk, "redirect_url": _next_url(self.request)})
