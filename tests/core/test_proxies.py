"""hjp.core.proxies.client_address: the one place the client's address is read."""

import pytest
from django.test import RequestFactory

from hjp.core.proxies import client_address


def request(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, None, "10.0.0.2"),
        (0, "198.51.100.23", "10.0.0.2"),  # no proxy trusted: whatever the client wrote is ignored
        (1, "198.51.100.23", "198.51.100.23"),
        (1, "6.6.6.6, 198.51.100.23", "198.51.100.23"),  # a spoofed entry on the left is never read
        (2, "6.6.6.6, 198.51.100.23, 10.0.0.9", "198.51.100.23"),
        (1, "6.6.6.6,2001:db8::1", "2001:db8::1"),
        (2, "198.51.100.23", "10.0.0.2"),  # fewer entries than proxies: it did not come through them
        (1, None, "10.0.0.2"),
        (1, "6.6.6.6, not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_is_the_entry_the_last_trusted_proxy_wrote(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    assert client_address(request(forwarded=forwarded)) == expected
