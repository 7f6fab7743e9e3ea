"""Writes about accounts, one concern a module: the second factor (second_factor) and password reset
(password_reset). Callers import from hjp.accounts.services."""

from hjp.accounts.services.password_reset import (
    PasswordResetNotSent,
    password_reset_request,
    password_reset_requests_purge,
    password_reset_send,
    reset_url,
)
from hjp.accounts.services.second_factor import (
    PASSKEY_REFUSED,
    RECOVERY_CODE_COUNT,
    WRONG_CODE,
    Verification,
    normalise_code,
    passkey_confirm,
    passkey_register,
    passkey_registration_begin,
    passkey_verify,
    recovery_codes_generate,
    second_factor_remove,
    second_factor_verify,
    totp_device_confirm,
    totp_device_start,
    user_reset_second_factors,
)

__all__ = [
    "PASSKEY_REFUSED",
    "RECOVERY_CODE_COUNT",
    "WRONG_CODE",
    "PasswordResetNotSent",
    "Verification",
    "normalise_code",
    "passkey_confirm",
    "passkey_register",
    "passkey_registration_begin",
    "passkey_verify",
    "password_reset_request",
    "password_reset_requests_purge",
    "password_reset_send",
    "recovery_codes_generate",
    "reset_url",
    "second_factor_remove",
    "second_factor_verify",
    "totp_device_confirm",
    "totp_device_start",
    "user_reset_second_factors",
]
