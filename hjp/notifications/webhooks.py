"""The webhook channel of the outbox: one signed HTTP POST of a notification to a system client's endpoint.

What is sent, to where and signed with which secret, the app that owns the notification composes
(`hjp.notifications.services.register_webhook`); this module only checks the endpoint and sends. The body is
signed with HMAC-SHA256 under the subscription's secret, in the `Hjp-Signature` header as `sha256=<hex>`; the
`Hjp-Event-Id` header names the change, the same on every retry, so a receiver de-duplicates on it.

An endpoint is https:// (http:// only to loopback, and only where WEBHOOK_ALLOW_HTTP_LOOPBACK: DEBUG and the
tests). The send follows hjp's one rule for outgoing requests (`hjp.core.safe_http`): where loopback is not
allowed, the host's addresses are resolved at each send and the connection made to the address checked, so a name
that resolves to this machine or the private network is refused (no server-side request forgery through DNS).
Redirects are never followed: any answer but 2xx is a failure."""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

from hjp.core import safe_http

SIGNATURE_HEADER = "Hjp-Signature"
EVENT_ID_HEADER = "Hjp-Event-Id"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ANSWER_BYTES = 4096  # of the answer's body, kept in the delivery log


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    secret: str
    body: bytes
    event_id: str
    content_type: str = "application/fhir+json"
    headers: dict[str, str] = field(default_factory=dict)


class WebhookError(Exception):
    """The notification was not accepted (refused endpoint, network error, timeout, or an answer but 2xx)."""


def signature(secret: str, body: bytes) -> str:
    """The value of the Hjp-Signature header: `sha256=` and the hex HMAC-SHA256 of the body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def endpoint_problem(url: str) -> str | None:
    """Why this URL cannot be a webhook endpoint, in words for the client, or None when it can."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The endpoint is not a valid URL."
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "The endpoint must be an absolute https:// URL."
    if parts.username or parts.password:
        return "The endpoint must not carry a user name or password: hjp signs each notification instead."
    if parts.fragment:
        return "The endpoint must not have a #fragment."
    if port == 0:
        return "The endpoint's port is not valid."
    loopback_allowed = settings.WEBHOOK_ALLOW_HTTP_LOOPBACK
    host = parts.hostname.lower()
    if parts.scheme == "http" and not (loopback_allowed and host in LOOPBACK_NAMES):
        return "The endpoint must use https://."
    if not loopback_allowed:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return "The endpoint must be on the internet, not this machine." if host in LOOPBACK_NAMES else None
        if not address.is_global:
            return "The endpoint must be on the internet, not a private, loopback or reserved address."
    return None


def post(request: WebhookRequest) -> int:
    """POST the notification, signed; returns the 2xx status. Raises WebhookError otherwise (3xx included: no
    redirect is followed). Each connect and read may take NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS."""
    problem = endpoint_problem(request.url)
    if problem:
        raise WebhookError(problem)
    headers = {
        **request.headers,
        "Content-Type": request.content_type,
        "User-Agent": "hjp-webhooks/1",
        SIGNATURE_HEADER: signature(request.secret, request.body),
        EVENT_ID_HEADER: request.event_id,
    }
    try:
        answer = safe_http.request(
            "POST",
            request.url,
            allow_private=settings.WEBHOOK_ALLOW_HTTP_LOOPBACK,
            timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS,
            body=request.body,
            headers=headers,
            max_bytes=MAX_ANSWER_BYTES,
        )
    except safe_http.UnsafeAddress as error:
        raise WebhookError(f"{error} Not sent.") from None
    except safe_http.RequestFailed as error:
        raise WebhookError(str(error)) from None
    if not 200 <= answer.status < 300:
        raise WebhookError(f"HTTP {answer.status} {answer.reason}".strip())
    return answer.status
