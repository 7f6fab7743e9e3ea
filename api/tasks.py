"""Housekeeping for the API, scheduled by Celery beat (the periodic jobs in the database, hjp.core.PeriodicJob)."""

from celery import shared_task

from api.fhir.partners import PartnerUnavailable, partner_send, partner_sends_sweep
from api.idempotency import idempotency_records_purge

PARTNER_SEND_RETRIES = 8


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def purge_idempotency_records() -> int:
    """Delete the idempotency records older than a day (api.idempotency). Idempotent."""
    return idempotency_records_purge()


@shared_task(acks_late=True, bind=True, max_retries=PARTNER_SEND_RETRIES)
def send_to_partner(self, send_id: int) -> str:
    """Send a handover to a provider's FHIR server (api.fhir.partners); a failure worth retrying is tried again
    after 30 s, 1 min, 2 min ... (at most an hour apart). Idempotent: a send made or stopped is not repeated."""
    last_try = self.request.retries >= PARTNER_SEND_RETRIES
    try:
        return partner_send(send_id=send_id, last_try=last_try).status
    except PartnerUnavailable as error:
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 3600)) from None


@shared_task(acks_late=True)
def sweep_partner_sends() -> int:
    """Enqueue the handovers to FHIR partners left unsent (api.fhir.partners.partner_sends_sweep)."""
    return partner_sends_sweep()
