"""Account pages, one concern a module: the second factor (second_factor) and password reset (password_reset)."""

from hjp.accounts.views.password_reset import password_reset
from hjp.accounts.views.second_factor import (
    PasskeyAuthBegin,
    PasskeyAuthComplete,
    PasskeyRegisterBegin,
    PasskeyRegisterComplete,
    device_remove,
    enrol,
    passkey_add,
    people,
    recovery_codes,
    recovery_codes_regenerate,
    reset_second_factors,
    security,
    totp_add,
    verify,
)

__all__ = [
    "PasskeyAuthBegin",
    "PasskeyAuthComplete",
    "PasskeyRegisterBegin",
    "PasskeyRegisterComplete",
    "device_remove",
    "enrol",
    "passkey_add",
    "people",
    "password_reset",
    "recovery_codes",
    "recovery_codes_regenerate",
    "reset_second_factors",
    "security",
    "totp_add",
    "verify",
]
