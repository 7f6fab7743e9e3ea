"""Idempotent creates: a POST with an `Idempotency-Key` header makes its object once, however often it is retried.

The key is recorded (client, key, hash of the request) under a unique constraint in the transaction that creates
the object, with the response. A retry with the same key and the same request gets that response again, and
nothing is created twice; while the first request is still in flight, the retry waits on the unique index and
then finds its row. The same key with a different request is refused (422). A request that fails (bad input, a
refused move) rolls its record back with everything else: the key is free for the corrected request. Records
are kept for IDEMPOTENCY_LIFETIME, then the key may be used again: the client's next create deletes its own
expired records, and the periodic job `purge-idempotency-records` (api.tasks) deletes everyone's, so the stored
responses (with the patients' details they carry) of a client that stopped calling do not stay."""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiClient, IdempotencyRecord
from hjp.core.errors import DomainError

IDEMPOTENCY_LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    """The key was used before for a different request."""

    def __init__(self):
        super().__init__(
            "This Idempotency-Key was used for a different request in the last 24 hours: use a new key for a new "
            "request, and the same key only to retry the same request."
        )


class InvalidIdempotencyKey(DomainError):
    pass


@dataclass(frozen=True)
class IdempotentResponse:
    status_code: int
    body: object
    replayed: bool


def request_hash(*, method: str, path: str, body: object) -> str:
    """A digest of what a request asks for, the same for the same JSON however its keys are ordered."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def clean_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidIdempotencyKey(f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters.")
    return key


@transaction.atomic
def idempotent_create(*, client: ApiClient, key: str, digest: str, create) -> IdempotentResponse:
    """Run `create()` (returning (status code, JSON body)) once per (client, key): see the module docstring.
    Raises IdempotencyKeyReused when the key was used for another request."""
    now = timezone.now()
    IdempotencyRecord.objects.filter(client=client, created_at__lt=now - IDEMPOTENCY_LIFETIME).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(client=client, key=key, request_hash=digest, created_at=now)
    except IntegrityError:
        # Under READ COMMITTED this read sees the request that took the key, committed.
        earlier = IdempotencyRecord.objects.get(client=client, key=key)
        if earlier.request_hash != digest:
            raise IdempotencyKeyReused() from None
        return IdempotentResponse(status_code=earlier.status_code, body=earlier.response_body, replayed=True)
    status_code, body = create()
    record.status_code, record.response_body = status_code, body
    record.save(update_fields=["status_code", "response_body"])
    return IdempotentResponse(status_code=status_code, body=body, replayed=False)


def idempotency_records_purge(*, now=None) -> int:
    """Delete every client's records older than IDEMPOTENCY_LIFETIME (their keys may be used again). Returns how
    many went. Idempotent; a record still in a create's open transaction is not yet visible, so not touched."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_LIFETIME
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
