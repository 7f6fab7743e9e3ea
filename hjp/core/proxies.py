"""The client's address, written once: django-axes (lock-out by address) and the audit log both ask here.

Production runs behind an HTTPS proxy, so REMOTE_ADDR is the proxy's address. Each proxy appends the address
it was connected from to X-Forwarded-For, so with `TRUSTED_PROXY_COUNT` = N proxies in front of hjp, the
client is the Nth entry from the right. Entries further left were written by whoever sent the request and
can say anything; they are never read. With N = 0 (the default, no proxy) X-Forwarded-For is ignored."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address the request came from, as far as the trusted proxies can vouch for it."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(entries) < count:
        # Fewer entries than proxies: the request did not come through all of them. Only REMOTE_ADDR is sure.
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
