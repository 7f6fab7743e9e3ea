"""Jobs for referrals, scheduled by Celery beat (the periodic jobs in the database, hjp.core.PeriodicJob)."""

from celery import shared_task

from referrals.services.retention import anonymise_expired_records as anonymise_expired


@shared_task(acks_late=True)
def anonymise_expired_records() -> dict[int, int]:
    """Anonymise the referrals past their partnership's retention period. Idempotent and resumable: each batch
    commits on its own and an anonymised patient is never taken again."""
    return anonymise_expired()
