"""Deleting private files once the transaction that unlinked them has committed, robustly: the names are written
in that transaction (StoredFileDeletion), a task deletes them after commit, and a periodic job deletes whatever a
storage error, a lost task or a broker outage left. A rollback leaves the files where the rows still point."""

import logging

from django.db import transaction
from django.utils import timezone

from hjp.core.models import StoredFileDeletion
from hjp.core.storage import private_storage

logger = logging.getLogger(__name__)


def stored_files_delete_later(*, names: list[str]) -> None:
    """Record `names` for deletion in the caller's transaction, and have them deleted once it commits."""
    if not names:
        return
    StoredFileDeletion.objects.bulk_create([StoredFileDeletion(name=name) for name in names], ignore_conflicts=True)
    transaction.on_commit(lambda: _enqueue(names), robust=True)


def _enqueue(names: list[str]) -> None:
    from hjp.core.tasks import delete_stored_files

    delete_stored_files.delay(names)


def stored_files_delete(*, names: list[str] | None = None) -> int:
    """Delete the recorded files (those of `names`, or every one recorded), and the record of each deleted.
    A file that cannot be deleted now stays recorded, for the next run. Idempotent: a file already gone is no
    error. Returns how many were deleted."""
    pending = StoredFileDeletion.objects.order_by("created_at")
    if names is not None:
        pending = pending.filter(name__in=names)
    deleted = 0
    for deletion in pending:
        try:
            private_storage.delete(deletion.name)
        except Exception as error:  # any storage error: kept for the next run, never raised to the user
            logger.warning("Could not delete a stored file (%s); it will be tried again", type(error).__name__)
            StoredFileDeletion.objects.filter(pk=deletion.pk).update(
                attempts=deletion.attempts + 1, last_failed_at=timezone.now()
            )
        else:
            StoredFileDeletion.objects.filter(pk=deletion.pk).delete()
            deleted += 1
    return deleted
