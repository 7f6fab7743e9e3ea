"""A Bundle sent twice at the same moment (a retry racing the first attempt), over HTTP against the live server
on the real PostgreSQL: one referral, and both answers the same."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from referrals.models import Referral
from tests.api.conftest import register, token_for
from tests.api.fhir.bundles import example_bundle
from tests.support.live import Response, send_together

pytestmark = pytest.mark.django_db(transaction=True)


def poster(live_server_url: str, token: str, body: dict, **headers):
    parts = urlsplit(live_server_url)

    def send() -> Response:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request(
                "POST",
                "/fhir/",
                body=json.dumps(body),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json", **headers},
            )
            raw = conn.getresponse()
            return Response(raw.status, raw.headers.get("Location", ""), raw.read().decode())
        finally:
            conn.close()

    return send


@pytest.mark.parametrize("headers", [{"Idempotency-Key": "gp-retry-1"}, {}], ids=["idempotency key", "ifNoneExist"])
def test_a_bundle_sent_twice_at_once_makes_one_referral(live_server, health_org, partnership, headers):
    system = register(health_org)
    send = poster(live_server.url, token_for(system), example_bundle(), **headers)

    first, second = send_together(send, send, hold=system.client.service_user)

    assert Referral.objects.count() == 1
    assert (first.status, second.status) == (200, 200), (first.text, second.text)
    assert json.loads(first.text) == json.loads(second.text)
