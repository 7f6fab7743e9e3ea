"""The kinds of second factor a user can hold, and what a session records once one is passed.

Each kind is one django-otp device model with the pages that go with it. The sign-in and security pages loop
over KINDS, so a new kind (passkeys) plugs in by adding one entry: its device model, the template included on
the verification page, where to add one, and the URL names of its own endpoints that the middleware lets
through before the second factor is passed.

A *primary* kind proves the user holds something (an authenticator app, a passkey). Recovery codes are not
primary: they stand in for a lost primary device, and a user who must use a second factor must keep at least
one primary device."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

VERIFIED_AT_SESSION_KEY = "hjp_second_factor_verified_at"


@dataclass(frozen=True)
class FactorKind:
    key: str  # in URLs and forms: /accounts/security/devices/<key>/<pk>/remove/
    label: str  # "Authenticator app"
    model: type[Device]
    primary: bool
    verify_template: str  # included on the verification page, once per kind the user holds
    add_url_name: str = ""  # where a user adds one ("" where it comes with another kind, as recovery codes do)
    add_label: str = ""  # the link to it: "Set up an authenticator app"
    # A kind checked by a typed code gets a code form on the verification page (a passkey has none: its template
    # runs its own ceremony): the question, its hint, and what to say when it is left empty.
    code_label: str = ""
    code_hint: str = ""
    code_required_message: str = ""
    # The kind's own endpoints (e.g. a passkey's JSON ceremony) the middleware lets through before the second
    # factor is passed: while the user still has to verify, and while they still have to enrol.
    verify_url_names: frozenset = field(default_factory=frozenset)
    enrol_url_names: frozenset = field(default_factory=frozenset)

    def devices_for(self, user, *, confirmed=True):
        return self.model.objects.devices_for_user(user, confirmed=confirmed).order_by("pk")


PASSKEY = FactorKind(
    key="passkey",
    label="Passkey",
    model=WebAuthnCredential,
    primary=True,
    verify_template="accounts/factors/passkey_verify.html",
    add_url_name="accounts:passkey_add",
    add_label="Set up a passkey",
    # The browser's ceremony (django-otp-webauthn's JSON endpoints, through hjp.accounts.views): signing in with
    # one while verifying, making one while enrolling (or later, from the security page).
    verify_url_names=frozenset({"accounts:passkey_auth_begin", "accounts:passkey_auth_complete"}),
    enrol_url_names=frozenset(
        {"accounts:passkey_add", "accounts:passkey_register_begin", "accounts:passkey_register_complete"}
    ),
)
TOTP = FactorKind(
    key="totp",
    label="Authenticator app",
    model=TOTPDevice,
    primary=True,
    verify_template="accounts/factors/totp_verify.html",
    add_url_name="accounts:totp_add",
    add_label="Set up an authenticator app",
    code_label="Code from your authenticator app",
    code_hint="The 6-digit code the app shows for hjp now.",
    code_required_message="Enter the 6-digit code from your authenticator app",
    enrol_url_names=frozenset({"accounts:totp_add"}),
)
RECOVERY = FactorKind(
    key="recovery",
    label="Recovery codes",
    model=StaticDevice,
    primary=False,
    verify_template="accounts/factors/recovery_verify.html",
    code_label="Recovery code",
    code_hint="One of the recovery codes you kept when you set up two-step sign-in. Each works once.",
    code_required_message="Enter one of your recovery codes",
)
KINDS: tuple[FactorKind, ...] = (PASSKEY, TOTP, RECOVERY)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
PRIMARY_KINDS = tuple(kind for kind in KINDS if kind.primary)


def kind_of(device: Device) -> FactorKind | None:
    return next((kind for kind in KINDS if isinstance(device, kind.model)), None)


def has_primary_device(user) -> bool:
    return any(kind.devices_for(user).exists() for kind in PRIMARY_KINDS)


def has_any_device(user) -> bool:
    return any(kind.devices_for(user).exists() for kind in KINDS)


def mark_session_verified(session, device: Device) -> None:
    """What a session records once `device` has verified its user: the device, as `django_otp.login` keeps it
    (OTPMiddleware reads it on every request, so a deleted device ends the verification), and when, so that
    changing one's devices can ask for a recent verification."""
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[VERIFIED_AT_SESSION_KEY] = timezone.now().timestamp()


def recently_verified(request) -> bool:
    verified_at = request.session.get(VERIFIED_AT_SESSION_KEY)
    return (
        request.user.is_verified()
        and verified_at is not None
        and timezone.now().timestamp() - verified_at <= settings.SECOND_FACTOR_RECENT_SECONDS
    )


# Where a user object read by hjp.accounts.backends keeps the persistent ids of its confirmed devices, of every kind.
CONFIRMED_DEVICES_ATTRIBUTE = "_hjp_confirmed_devices"


def confirmed_devices_of_each_user() -> dict:
    """Annotations for a query of users: for each kind, the ids of the user's confirmed devices ("3,7"), so that
    the device a session was verified with is checked with the user's own read (`confirmed_device`)."""
    return {
        f"_hjp_{kind.key}_device_ids": Subquery(
            kind.model.objects.filter(user=OuterRef("pk"), confirmed=True)
            .order_by()
            .values("user")
            .annotate(ids=StringAgg(Cast("pk", CharField()), delimiter=Value(",")))
            .values("ids")
        )
        for kind in KINDS
    }


def remember_confirmed_devices(user) -> None:
    """After a query annotated with `confirmed_devices_of_each_user`: the persistent ids of the user's confirmed
    devices, kept on the user object for `confirmed_device`."""
    persistent_ids = set()
    for kind in KINDS:
        ids = getattr(user, f"_hjp_{kind.key}_device_ids") or ""
        persistent_ids.update(f"{kind.model.model_label()}/{pk}" for pk in ids.split(",") if pk)
    setattr(user, CONFIRMED_DEVICES_ATTRIBUTE, frozenset(persistent_ids))


def knows_confirmed_devices(user) -> bool:
    return hasattr(user, CONFIRMED_DEVICES_ATTRIBUTE)


def confirmed_device(user, persistent_id: str) -> Device | None:
    """The user's confirmed device with that persistent id, as the user's own read found it (see
    `confirmed_devices_of_each_user`), else None: what django-otp's `Device.from_persistent_id` and its
    middleware's checks (the device is the user's, and confirmed) give, without a query of its own. The
    device comes with its id, user and confirmation; its other fields are read from the database when first
    used (none is, on an ordinary page: the second-factor middleware asks only which kind it is)."""
    if persistent_id not in getattr(user, CONFIRMED_DEVICES_ATTRIBUTE):
        return None
    model_label, pk = persistent_id.rsplit("/", 1)
    model = next(kind.model for kind in KINDS if kind.model.model_label() == model_label)
    known = {model._meta.pk.attname: int(pk), "user_id": user.pk, "confirmed": True}
    names = [field.attname for field in model._meta.concrete_fields if field.attname in known]
    return model.from_db(user._state.db, names, [known[name] for name in names])
