"""Housekeeping for the API, scheduled by Celery beat (the periodic jobs in the database, hjp.core.PeriodicJob)."""

from celery import shared_task

from api.idempotency import idempotency_records_purge


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def purge_idempotency_records() -> int:
    """Delete the idempotency records older than a day (api.idempotency). Idempotent."""
    return idempotency_records_purge()
