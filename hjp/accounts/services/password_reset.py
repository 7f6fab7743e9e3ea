"""Password reset, in two halves so that the web request does the same work whoever's address is typed.

- `password_reset_request` (the web request): within the hourly limits per address typed and per client
  address, write the request down and hand it to Celery once the transaction commits. It never looks the
  address up, so a known and an unknown address cost the same queries and take the same time; over the
  limits it writes nothing, and the page the user sees is the same either way.
- `password_reset_send` (the Celery task): look the address up and, for an active account with a password,
  email a link to choose a new one, valid for PASSWORD_RESET_TIMEOUT (an hour). The email carries the link
  and nothing else about the account. Each request is handled once: it is claimed before the email goes,
  and released again only when the mail server refused it, so that the retry can send it."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from hjp.accounts.models import PasswordResetRequest, User, normalise_email
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.notifications.rendering import render_message, render_subject

logger = logging.getLogger(__name__)

RESET_LIMIT_WINDOW = timedelta(hours=1)
RESET_REQUESTS_KEPT = timedelta(days=1)


class PasswordResetNotSent(Exception):
    """The mail server refused the email; the task retries."""


@transaction.atomic
def password_reset_request(*, email: str, ip_address: str | None) -> PasswordResetRequest | None:
    """Ask for a reset link to be emailed to `email` if it has an account. Returns the request written, or
    None when the hourly limit for that address or for the client's address is reached (nothing is sent)."""
    email = normalise_email(email)
    _one_at_a_time(f"password-reset:email:{email}", f"password-reset:address:{ip_address}")
    recent = PasswordResetRequest.objects.filter(requested_at__gte=timezone.now() - RESET_LIMIT_WINDOW)
    if recent.filter(email=email).count() >= settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT or (
        ip_address and recent.filter(ip_address=ip_address).count() >= settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
    ):
        logger.warning(
            "Password reset throttled: too many requests this hour for the address typed or from %s.", ip_address
        )
        return None
    reset = PasswordResetRequest.objects.create(email=email, ip_address=ip_address)
    audit_record(actor=None, action=AuditEvent.Action.CREATE, obj=reset, summary="password reset link asked for")
    transaction.on_commit(lambda: _enqueue(reset.pk), robust=True)
    return reset


def _one_at_a_time(*keys: str) -> None:
    """Make concurrent requests for the same address typed or from the same client wait for each other until
    their transaction ends, so that a burst of them cannot all pass the count before any is written
    (PostgreSQL's transaction-level advisory locks, taken in one order. `make run`'s SQLite, for one person
    trying the demo, takes none)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(keys):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [key])


def _enqueue(request_id: int) -> None:
    from hjp.accounts.tasks import send_password_reset

    try:
        send_password_reset.delay(request_id)
    except Exception:
        # Nothing to sweep: the link would be stale soon anyway, and the person can ask again.
        logger.warning("Could not hand password reset request %s to Celery.", request_id, exc_info=True)


def password_reset_send(*, request_id: int) -> bool:
    """Email the reset link for one request, once. Returns whether an email went."""
    reset = _claim(request_id)
    if reset is None:
        return False
    user = User.objects.filter(email=normalise_email(reset.email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    email = EmailMessage(
        subject=render_subject("password_reset"),
        body=render_message("password_reset", reset_url=reset_url(user)),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    try:
        email.send(using="default")
    except Exception as exc:
        PasswordResetRequest.objects.filter(pk=reset.pk).update(handled_at=None)
        raise PasswordResetNotSent(f"{type(exc).__name__}: {exc}") from exc
    return True


@transaction.atomic
def _claim(request_id: int) -> PasswordResetRequest | None:
    """Mark the request handled before its email goes, or return None: already handled, purged, or older than
    a link would last (a task that waited that long sends nothing; the person will have asked again)."""
    reset = PasswordResetRequest.objects.select_for_update().filter(pk=request_id).first()
    if reset is None or reset.handled_at is not None:
        return None
    reset.handled_at = timezone.now()
    reset.save(update_fields=["handled_at"])
    if reset.requested_at < reset.handled_at - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT):
        return None
    return reset


def reset_url(user: User) -> str:
    """The link that lets `user` choose a new password, valid for PASSWORD_RESET_TIMEOUT from now, once."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return f"{settings.SITE_URL}{reverse('password_reset_confirm', args=[uid, token])}"


def password_reset_requests_purge() -> int:
    """Delete the requests more than a day old: past every limit and every link. Returns how many."""
    deleted, _ = PasswordResetRequest.objects.filter(requested_at__lt=timezone.now() - RESET_REQUESTS_KEPT).delete()
    return deleted
