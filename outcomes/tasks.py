"""Periodic feedback jobs, scheduled by Celery beat (the periodic jobs in the database, hjp.core.PeriodicJob). Thin wrappers around
services; idempotent because every message has a unique key (running one twice sends nothing twice)."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from outcomes import patient_voice, running_figures, services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_monthly_digests(year: int | None = None, month: int | None = None) -> int:
    """The digest of the month before today's, unless a month is given."""
    if year is None or month is None:
        last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
        year, month = last_month.year, last_month.month
    return services.send_monthly_digests(year=year, month=month)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_daily_reminders() -> int:
    return services.send_daily_reminders(today=timezone.localdate())


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def refresh_figures() -> int:
    """Bring the running totals up to date with every referral marked pending (enqueued after each commit that
    marks one, and by beat every minute for any a broker outage left behind). Idempotent: a referral is read
    anew each time, and only the difference is added."""
    return running_figures.refresh_pending()


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(patient_voice.LinkSendFailed,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def send_patient_link(self, link_id: int) -> bool:
    """Send the patient's own link once (outcomes.patient_voice): a link already sent, being sent or cancelled
    is left alone, so a redelivered task sends nothing twice."""
    return patient_voice.patient_link_deliver(link_id=link_id)
