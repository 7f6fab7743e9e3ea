"""The one rule for outgoing requests (hjp.core.safe_http): the address checked is the address connected to, and
a host with any address off the public internet is refused unless the use allows it."""

import socket

import pytest

from hjp.core import safe_http

PUBLIC, PRIVATE = "93.184.215.14", "10.0.0.5"


def _resolver(*answers):
    """A resolver that gives each answer in turn, then the last one for ever (a rebinding name)."""
    queue = list(answers)

    def getaddrinfo(host, port, *args, **kwargs):
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo


@pytest.fixture
def connections(monkeypatch):
    """Where connections were attempted; every one refused (the tests touch no network)."""
    attempted = []

    def connect(address, *args, **kwargs):
        attempted.append(address[0])
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(socket, "create_connection", connect)
    return attempted


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_rebinding_name_is_connected_to_at_the_address_checked_only(monkeypatch, connections, scheme):
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(PUBLIC, PRIVATE))
    with pytest.raises(safe_http.RequestFailed):
        safe_http.request("GET", f"{scheme}://feeds.example.org/x", allow_private=False, timeout=1)
    assert connections == [PUBLIC]


@pytest.mark.parametrize("addresses", [[PRIVATE], ["127.0.0.1"], ["169.254.169.254"], [PUBLIC, "::1"]])
def test_a_host_with_any_address_off_the_internet_is_refused_before_connecting(monkeypatch, connections, addresses):
    infos = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 443)) for a in addresses]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: infos)
    with pytest.raises(safe_http.PrivateAddress):
        safe_http.request("GET", "https://hooks.example.org/", allow_private=False, timeout=1)
    assert connections == []


def test_where_private_addresses_are_allowed_the_checked_address_is_still_the_one_connected_to(
    monkeypatch, connections
):
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(PRIVATE, PUBLIC))
    with pytest.raises(safe_http.RequestFailed):
        safe_http.request("GET", "http://feed.internal/x", allow_private=True, timeout=1)
    assert connections == [PRIVATE]


def test_only_http_urls_are_fetched(connections):
    for url in ("file:///etc/passwd", "ftp://example.org/", "http:///nohost", "https://example.org:99999/feed"):
        with pytest.raises(safe_http.UnsafeAddress):
            safe_http.request("GET", url, allow_private=True, timeout=1)
    assert connections == []


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:93.184.215.14", True),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a00:5::", False),  # 6to4 of 10.0.0.5
        ("64:ff9b::a00:5", False),  # NAT64 of 10.0.0.5
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254, the cloud's metadata service
        ("fe80::1%eth0", False),
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1
        ("64:ff9b:1::7f00:1", False),  # local-use NAT64
    ],
)
def test_an_ipv6_address_carrying_a_private_ipv4_address_is_not_public(address, public):
    assert safe_http.is_public(address) is public
