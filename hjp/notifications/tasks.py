"""Thin Celery wrappers around the outbox services. Idempotent: running one twice sends nothing twice."""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from hjp.notifications import services


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(services.DeliveryFailed, DatabaseError, OSError),
    retry_backoff=settings.NOTIFICATION_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=settings.NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS,  # the visibility timeout exceeds it
    retry_jitter=True,
    max_retries=8,
)
def deliver_message(self, message_id: int) -> None:
    services.message_deliver(message_id=message_id)


@shared_task(acks_late=True)
def sweep_undelivered() -> int:
    return services.messages_sweep()


@shared_task(acks_late=True)
def send_daily_summaries() -> int:
    return services.daily_summaries_send()
