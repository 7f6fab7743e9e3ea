"""Passkeys and security keys (WebAuthn) on django-otp-webauthn: where the relying party is, and the ways hjp
asks for them.

The relying party ID is the host name the browser uses, and the expected origin that host with the request's
scheme. Django has already checked the host against ALLOWED_HOSTS, so both are one of the site's own names: the
same settings serve https://hjp.example.org behind the HTTPS proxy and http://localhost:8000 on a laptop. A
passkey works only at the host name it was made at; browsers refuse passkeys at an IP address.

A passkey is a second factor after the password, never a way in without one
(OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is off). The package's JSON ceremony views are used through subclasses
in hjp.accounts.views, which the middleware lets through only at the stage they belong to."""

import ipaddress

from django.db.models import F
from django.http.request import split_domain_port
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn.helpers.structs import UserVerificationRequirement

UNNAMED = "Passkey"


def relying_party_id(request) -> str:
    """The host name of the request (OTP_WEBAUTHN_RP_ID_CALLABLE)."""
    domain, _port = split_domain_port(request.get_host())
    return domain


def passkeys_work_at(host_name: str) -> bool:
    """Whether browsers offer passkeys at this host name: not at an IP address (they say 'invalid domain')."""
    try:
        ipaddress.ip_address(host_name.strip("[]"))
    except ValueError:
        return True
    return False


def at_localhost(request) -> str:
    """The address of this page at localhost, the same port: where a browser offers passkeys on one's own
    machine when it was opened at 127.0.0.1."""
    _domain, port = split_domain_port(request.get_host())
    return f"{request.scheme}://localhost{':' + port if port else ''}{request.get_full_path()}"


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper (OTP_WEBAUTHN_HELPER_CLASS) with hjp's choices: the request's own origin,
    user verification preferred (a PIN or fingerprint where the key has one), a new passkey counted only once
    its owner has named it (hjp.accounts.services.passkey_confirm), and only those offered at sign-in."""

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def create_credential(self, user, response, parsed_credential, original_data):
        device = super().create_credential(user, response, parsed_credential, original_data)
        device.confirmed = False
        device.name = UNNAMED
        return device

    def get_generate_authentication_options_kwargs(self, *, user=None, require_user_verification: bool) -> dict:
        kwargs = super().get_generate_authentication_options_kwargs(
            user=user, require_user_verification=require_user_verification
        )
        if not require_user_verification:
            kwargs["user_verification"] = UserVerificationRequirement.PREFERRED
        if user is not None:
            kwargs["allow_credentials"] = (
                WebAuthnCredential.objects.filter(user=user, confirmed=True)
                .order_by(F("last_used_at").desc(nulls_last=True), "pk")
                .as_credential_descriptors()
            )
        return kwargs
