"""The references people read out on the phone: a letter for the kind of thing, then seven characters from an
alphabet without the ones that are easy to confuse (no I, O, 0 or 1)."""

import secrets

from django.db.models import Model

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 7


def new_reference(model: type[Model], prefix: str) -> str:
    """A reference starting with `prefix` ("R" for a referral, "C" for a case) that no row of `model` has yet.
    The model's unique constraint on `reference` is the final guard against a race."""
    while True:
        reference = prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
        if not model.objects.filter(reference=reference).exists():
            return reference
