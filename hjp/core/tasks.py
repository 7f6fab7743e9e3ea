"""Housekeeping for the core, scheduled by Celery beat (the periodic jobs in the database, hjp.core.PeriodicJob)."""

from celery import shared_task

from hjp.core.file_deletions import stored_files_delete
from hjp.core.submissions import submission_tokens_purge


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def purge_submission_tokens() -> int:
    """Delete the one-time form tokens of submissions more than a day old. Idempotent."""
    return submission_tokens_purge()


@shared_task(acks_late=True)
def delete_stored_files(names: list[str] | None = None) -> int:
    """Delete the private files recorded for deletion (those named, or all: the periodic job). Idempotent."""
    return stored_files_delete(names=names)
