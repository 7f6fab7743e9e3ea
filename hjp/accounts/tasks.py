"""Thin Celery wrappers around the password-reset services. Idempotent: a request is emailed once."""

from celery import shared_task
from django.db import DatabaseError

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
