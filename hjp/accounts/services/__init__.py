"""Writes about accounts, one concern a module: the second factor (second_factor) and password reset
(password_reset), alerts before funding ends (funding_alerts). Callers import from hjp.accounts.services."""

from hjp.accounts.services.funding_alerts import ALERT_DAYS, funding_alerts_send
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
    "ALERT_DAYS",
    "PASSKEY_REFUSED",
    "RECOVERY_CODE_COUNT",
    "WRONG_CODE",
    "PasswordResetNotSent",
    "Verification",
    "funding_alerts_send",
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
