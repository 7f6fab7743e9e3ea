"""Recovery codes are kept only as a keyed hash, like passwords: someone who reads the database (a backup, a
replica, a support export) learns no code that would pass a user's second step.

django-otp's StaticToken holds at most 16 characters and is looked up by equality, so the stored form is
deterministic: an HMAC-SHA256 of the code keyed by the installation's SECRET_KEY (a secret the database does
not hold), cut to 80 bits and written in base32. A code is 40 random bits, so the hash does not shorten it.
Codes made under a SECRET_KEY that has since been rotated into SECRET_KEY_FALLBACKS still pass."""

from base64 import b32encode

from django.conf import settings
from django.utils.crypto import salted_hmac

KEY_SALT = "hjp.accounts.recovery_codes"
STORED_LENGTH = 16  # StaticToken.token's max_length


def normalise_code(code: str) -> str:
    """Codes as people type them: spaces and dashes ignored, letters in either case."""
    return "".join(code.split()).replace("-", "").lower()


def stored_form(code: str, *, secret: str | None = None) -> str:
    """What the database keeps for `code`."""
    digest = salted_hmac(KEY_SALT, normalise_code(code), secret=secret or settings.SECRET_KEY, algorithm="sha256")
    return b32encode(digest.digest()[:10]).decode("ascii").lower()[:STORED_LENGTH]


def stored_forms(code: str) -> list[str]:
    """The stored form under the current SECRET_KEY, then under each fallback key (newest first)."""
    return [stored_form(code, secret=key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
