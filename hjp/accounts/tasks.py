"""Thin Celery wrappers around the password-reset and funding-alert services. Idempotent: a request is emailed
once, an alert is queued once per funding, threshold and person."""

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from hjp.accounts import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(services.PasswordResetNotSent, DatabaseError, OSError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=5,
)
def send_password_reset(request_id: int) -> bool:
    return services.password_reset_send(request_id=request_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def purge_password_reset_requests() -> int:
    return services.password_reset_requests_purge()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_funding_alerts() -> int:
    """Tell managers and supervisors of fundings and partnerships ending in 90 or 30 days (daily)."""
    return services.funding_alerts_send(today=timezone.localdate())
