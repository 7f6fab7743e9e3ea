"""Writes to users' second factors, each in one transaction with its audit entry.

Codes are checked by django-otp's devices (TOTPDevice, StaticDevice): their throttling makes each attempt after
a wrong code wait 1, 2, 4, 8 ... seconds, and a code is accepted once. A wrong code is no error to roll back:
the failure count and its audit entry are committed, and the service returns what to tell the user.

Passkeys are checked by django-otp-webauthn's ceremony (its helper verifies the browser's signed answer); the
view hands it to the service as a callable, so that what the ceremony stores and its audit entry are one
transaction, and a refused ceremony is audited and leaves nothing behind."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.models import WebAuthnCredential

from hjp.accounts.demo import DEMO_TOTP_KEY
from hjp.accounts.factors import KINDS, KINDS_BY_KEY, PASSKEY, PRIMARY_KINDS, RECOVERY, kind_of
from hjp.accounts.permissions import can_reset_second_factors
from hjp.accounts.recovery_codes import normalise_code, stored_form, stored_forms
from hjp.accounts.roles import must_use_second_factor
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue

RECOVERY_CODE_COUNT = 10
WRONG_CODE = "That code is not right. Check it and try again; each code can be used once."
PASSKEY_REFUSED = (
    "That passkey was not accepted. Use the passkey or security key you set up for hjp, or another way below."
)
PASSKEY_NOT_MADE = "Your passkey could not be set up. Try again, or set up an authenticator app instead."


@dataclass(frozen=True)
class Verification:
    device: Device | None = None
    refusal: str = ""  # what to tell the user when no device accepted the code

    @property
    def passed(self) -> bool:
        return self.device is not None


def _try_code(device: Device, code: str) -> str:
    """Check `code` on `device` (locked for update); '' when accepted, otherwise what to tell the user."""
    if isinstance(device, TOTPDevice) and device.key == DEMO_TOTP_KEY and not settings.DEBUG:
        return "This is the published demo authenticator, which works only in the demo. Ask an admin to reset it."
    allowed, why = device.verify_is_allowed()
    if not allowed:
        if why and why.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
            wait = max(1, int((why["locked_until"] - timezone.now()).total_seconds() + 0.999))
            return f"Too many wrong codes. Wait {wait} second{'s' if wait != 1 else ''}, then try again."
        return WRONG_CODE
    if isinstance(device, StaticDevice):
        # A recovery code is kept hashed (hjp.accounts.recovery_codes): the one stored form that matches is
        # checked, so a wrong code counts once however many keys are tried.
        forms = stored_forms(code)
        token = device.token_set.filter(token__in=forms).values_list("token", flat=True).first() or forms[0]
        return "" if device.verify_token(token) else WRONG_CODE
    return "" if device.verify_token(normalise_code(code)) else WRONG_CODE


@transaction.atomic
def second_factor_verify(*, user, kind_key: str, device_id: int | None, code: str) -> Verification:
    """Check a code the user typed at the second step on one of their confirmed devices of `kind_key`."""
    kind = KINDS_BY_KEY.get(kind_key)
    devices = kind.devices_for(user).select_for_update() if kind is not None else None
    device = (devices.filter(pk=device_id) if device_id else devices).first() if devices is not None else None
    if device is None:
        return Verification(refusal=WRONG_CODE)
    refusal = _try_code(device, code)
    audit_record(
        actor=user,
        action=AuditEvent.Action.VERIFY_FAILED if refusal else AuditEvent.Action.VERIFY,
        obj=device,
        summary=f"{kind.label}: {'refused, ' + refusal if refusal else 'code accepted'}",
    )
    return Verification(device=None if refusal else device, refusal=refusal)


@transaction.atomic
def totp_device_start(*, user) -> TOTPDevice:
    """The authenticator the user is setting up: its secret is shown until a code from it confirms it. The
    same one while they set it up (a reloaded page shows the same QR code)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user, device_id: int, code: str, name: str = "") -> Verification:
    """Confirm the authenticator being set up with a code it shows now; only then does it count."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        return Verification(refusal="Start again: this authenticator is no longer being set up.")
    refusal = _try_code(device, code)
    if refusal:
        audit_record(
            actor=user, action=AuditEvent.Action.VERIFY_FAILED, obj=device, summary=f"set-up refused, {refusal}"
        )
        return Verification(refusal=refusal)
    device.confirmed = True
    device.name = name.strip()[:64] or device.name
    device.save(update_fields=["confirmed", "name"])
    audit_record(actor=user, action=AuditEvent.Action.CREATE, obj=device, summary="authenticator app set up")
    return Verification(device=device)


@transaction.atomic
def passkey_registration_begin(*, user) -> None:
    """Before the browser makes a new passkey: forget the user's passkeys whose set-up was never finished (made
    by a browser, never named, never counted), so that it is not refused as one the user already has."""
    WebAuthnCredential.objects.filter(user=user, confirmed=False).delete()


@transaction.atomic
def passkey_register(*, user, ceremony: Callable[[], Device]) -> Verification:
    """Check the browser's answer to the set-up ceremony: `ceremony` verifies it and stores the new passkey,
    not yet counted (hjp.accounts.passkeys.PasskeyHelper). A refusal is audited and stores nothing."""
    try:
        with transaction.atomic():
            device = ceremony()
    except OTPWebAuthnApiError as exc:
        audit_record(
            actor=user, action=AuditEvent.Action.VERIFY_FAILED, obj=user, summary=f"passkey set-up refused, {exc}"
        )
        return Verification(refusal=PASSKEY_NOT_MADE)
    return Verification(device=device)


@transaction.atomic
def passkey_confirm(*, user, device_id: int, name: str = "") -> Verification:
    """The user names the passkey their browser has just made; only then does it count."""
    device = WebAuthnCredential.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        return Verification(refusal="Start again: this passkey is no longer being set up.")
    device.confirmed = True
    device.name = name.strip()[:64] or device.name
    device.save(update_fields=["confirmed", "name"])
    audit_record(actor=user, action=AuditEvent.Action.CREATE, obj=device, summary="passkey set up")
    return Verification(device=device)


@transaction.atomic
def passkey_verify(*, user, ceremony: Callable[[], Device]) -> Verification:
    """The second step with a passkey: `ceremony` checks the browser's signed answer against one of the user's
    passkeys (and moves its signature counter on). Accepted or refused, it is audited."""
    try:
        with transaction.atomic():
            device = ceremony()
    except OTPWebAuthnApiError as exc:
        audit_record(
            actor=user, action=AuditEvent.Action.VERIFY_FAILED, obj=user, summary=f"{PASSKEY.label}: refused, {exc}"
        )
        return Verification(refusal=PASSKEY_REFUSED)
    audit_record(actor=user, action=AuditEvent.Action.VERIFY, obj=device, summary=f"{PASSKEY.label}: accepted")
    return Verification(device=device)


@transaction.atomic
def recovery_codes_generate(*, user) -> list[str]:
    """New recovery codes for the user, replacing any they had: each works once. Returned to be shown once."""
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=stored_form(code)) for code in codes)
    device.confirmed = True
    device.throttle_reset(commit=False)
    device.save()
    audit_record(
        actor=user, action=AuditEvent.Action.CREATE, obj=device, summary=f"{RECOVERY_CODE_COUNT} new recovery codes"
    )
    return codes


@transaction.atomic
def second_factor_remove(*, user, device: Device) -> None:
    """Remove one of the user's devices. A user who must use a second factor keeps at least one authenticator
    (or passkey); removing one's last makes the recovery codes go with it."""
    kind = kind_of(device)
    if device.user_id != user.pk or kind is None:
        raise DomainError("That device is not yours.")
    last_primary = kind.primary and not any(
        k.devices_for(user).exclude(pk=device.pk if k is kind else None).exists() for k in PRIMARY_KINDS
    )
    if last_primary and must_use_second_factor(user):
        raise DomainError(
            "This is your last authenticator, and your role needs one to sign in. Add another before removing it."
        )
    audit_record(actor=user, action=AuditEvent.Action.DELETE, obj=device, summary=f"{kind.label} removed")
    device.delete()
    if last_primary:
        for codes in RECOVERY.devices_for(user, confirmed=None):
            audit_record(actor=user, action=AuditEvent.Action.DELETE, obj=codes, summary="recovery codes removed")
            codes.delete()


@transaction.atomic
def user_reset_second_factors(*, user, by, reason: str) -> int:
    """A lost device: remove every second factor of `user`, who sets one up again at their next sign-in. Only
    an admin, or a supervisor of the user's advice organisation (hjp.accounts.permissions). The user is told
    in their inbox and by email (a sign-in link, nothing else). Returns how many devices went."""
    reason = reason.strip()
    if not can_reset_second_factors(by=by, user=user):
        raise DomainError("You may not reset this person's sign-in.")
    if not reason:
        raise DomainError("Say why their sign-in is reset")
    removed = 0
    for kind in KINDS:
        removed += kind.devices_for(user, confirmed=None).count()
        kind.devices_for(user, confirmed=None).delete()
    event = audit_record(
        actor=by, action=AuditEvent.Action.RESET, obj=user, summary=f"second factors reset ({removed}): {reason}"
    )
    context = {"user": user, "by": by, "reason": reason}
    message_queue(
        recipient=user,
        kind=MessageKind.SECURITY_NOTICE,
        key=f"second_factors_reset:audit:{event.pk}",
        subject=render_subject("second_factors_reset", **context),
        body=render_message("second_factors_reset", **context),
        url=reverse("accounts:security"),
    )
    return removed
