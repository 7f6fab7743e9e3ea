"""One HTTP request to an address a user or a client gave, without server-side request forgery: the one rule for
every outgoing request hjp makes on someone's word (webhooks, Open Referral UK feeds, FHIR partners).

The host's addresses are resolved once; unless private addresses are allowed (the caller's setting: loopback in
DEBUG and the tests, or a feed on the organisation's own network), a host any of whose addresses is loopback,
private, link-local or otherwise not on the internet is refused; and the connection is made to the address that
was checked, never to the name again (so a name that answers a public address to the check and a private one to
the connection, DNS rebinding, reaches nothing private). HTTPS verifies the certificate for the host name.
Redirects are never followed: the caller gets the 3xx and decides."""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeAddress(Exception):
    """The host cannot be resolved, has no address, or resolves to an address off the public internet."""


class PrivateAddress(UnsafeAddress):
    """The host resolves to an address off the public internet (and private addresses are not allowed)."""


class RequestFailed(Exception):
    """The network failed (refused, reset, a protocol error); `timed_out` when it was the timeout."""

    def __init__(self, message: str, *, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: http.client.HTTPMessage  # case-insensitive
    body: bytes  # at most `max_bytes` + 1 bytes: one more than the caller's limit tells it the body was longer


# IPv6 addresses that carry an IPv4 address a gateway on the way would connect to: NAT64's well-known prefix.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Never public, whatever they carry: IPv4-compatible (deprecated), IPv4-translated (SIIT) and local-use NAT64.
NOT_PUBLIC = [ipaddress.ip_network(net) for net in ("::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48")]


def is_public(address: str) -> bool:
    """On the public internet: global, and so is any IPv4 address it carries (IPv4-mapped, 6to4, Teredo's
    client, NAT64), which a host could otherwise use to reach 127.0.0.1 or 10.0.0.5 through an IPv6 name."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in NOT_PUBLIC):
            return False
        carried = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in NAT64:
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(v4 is not None and not v4.is_global for v4 in carried):
            return False
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_global
    return ip.is_global


def checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to: the first of the host's addresses, refusing (UnsafeAddress) a host any of whose
    addresses is off the public internet unless `allow_private`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise UnsafeAddress(f"The host could not be resolved: {error}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeAddress("The host has no address.")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise PrivateAddress("The host resolves to a private, loopback or reserved address.")
    return addresses[0]


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address already checked, whatever the name resolves to now."""

    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address already checked, verifying the certificate for the host name."""

    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    timeout: float,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    max_bytes: int = 4096,
) -> Answer:
    """Send one request to an http(s) URL by the rule above and read at most `max_bytes` (+1) of the answer.
    Each connect and read may take `timeout` seconds. Raises UnsafeAddress or RequestFailed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeAddress("Only absolute http(s) URLs are fetched.")
    https = parts.scheme == "https"
    try:
        port = parts.port or (443 if https else 80)
    except ValueError as error:  # a port out of range (":99999"), which URLValidator lets through
        raise UnsafeAddress("The address's port is not a valid port number.") from error
    address = checked_address(parts.hostname, port, allow_private=allow_private)
    connection_class = PinnedHTTPSConnection if https else PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=address, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        content = response.read(max_bytes + 1)
    except TimeoutError as error:
        raise RequestFailed(f"timed out: {error}", timed_out=True) from None
    except (OSError, http.client.HTTPException) as error:
        raise RequestFailed(f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
    return Answer(status=response.status, reason=response.reason, headers=response.headers, body=content)
