"""Secrets the app must read back (a webhook's signing secret) kept encrypted in the database, with the keys that
encrypt the evidence files (EVIDENCE_ENCRYPTION_KEYS, `hjp.core.storage`): the first key encrypts, every key
decrypts, so a new key is put first, `manage.py rotate_evidence_keys` re-encrypts the files and
`manage.py rotate_encrypted_columns` these columns (`reencrypt_column`), and then the old key is removed.

`EncryptedTextField` stores a Fernet token and gives the model the plain text: a database dump, a backup or a
read replica holds no usable secret. A value written before the column was encrypted (no Fernet token's prefix) is
read as it is, until the migration that encrypted the column (or the rotation) rewrites it."""

from cryptography.fernet import InvalidToken
from django.db import models

from hjp.core.storage import encryption_keys

# Every Fernet token starts with its version byte 0x80 and a timestamp: base64 "gAAAAA".
TOKEN_PREFIX = "gAAAAA"


class UnreadableSecret(Exception):
    """A stored token none of EVIDENCE_ENCRYPTION_KEYS decrypts: the key that made it was removed too early."""


def encrypt_text(value: str) -> str:
    _all, first = encryption_keys()
    return first.encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    all_keys, _first = encryption_keys()
    try:
        return all_keys.decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "An encrypted value cannot be decrypted with any of EVIDENCE_ENCRYPTION_KEYS: put back the key that made "
            "it (after the first) and run manage.py rotate_encrypted_columns."
        ) from None


class EncryptedTextField(models.TextField):
    """Text kept as a Fernet token under the first of EVIDENCE_ENCRYPTION_KEYS; the model reads the plain text.
    It cannot be searched or compared in the database (every write makes a different token)."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def from_db_value(self, value, expression, connection):
        if value is None or not value.startswith(TOKEN_PREFIX):
            return value  # written before the column was encrypted
        return decrypt_text(value)


def encrypted_fields(model) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if isinstance(field, EncryptedTextField)]


def reencrypt_column(model, field_name: str) -> int:
    """Write every row's value of `field_name` again under the first key: a value stored before encryption is
    encrypted, one under an older key re-encrypted. Returns how many rows were written. Works on a migration's
    historical model too (the data migration that encrypted the column calls it)."""
    written = 0
    for pk, value in model._base_manager.order_by("pk").values_list("pk", field_name).iterator():
        if value:
            model._base_manager.filter(pk=pk).update(**{field_name: value})
            written += 1
    return written
