"""Two identical POSTs at the same moment, over real HTTP to the live server: one referral."""

import http.client
import json
from urllib.parse import urlsplit

from referrals.models import Referral
from tests.api.conftest import register, token_for
from tests.api.test_referrals import referral_body
from tests.support.live import Response, send_together


def post_json(live_server_url: str, token: str, body: dict, key: str | None) -> Response:
    parts = urlsplit(live_server_url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", "/api/v1/referrals/", body=json.dumps(body), headers=headers)
        raw = conn.getresponse()
        return Response(raw.status, raw.headers.get("Location", ""), raw.read().decode())
    finally:
        conn.close()


def test_two_identical_posts_with_one_key_at_the_same_moment_make_one_referral(live_server, health_org, partnership):
    token = token_for(register(health_org))
    body = referral_body()

    def send():
        return post_json(live_server.url, token, body, "same-key")

    first, second = send_together(send, send, hold=partnership.advice_organisation)

    assert (first.status, second.status) == (201, 201), (first.text, second.text)
    assert json.loads(first.text) == json.loads(second.text)
    assert first.location == second.location
    assert Referral.objects.count() == 1


def test_two_identical_posts_without_a_key_make_one_referral_and_a_refusal(live_server, health_org, partnership):
    """Without a key, the second is the same patient's second open referral: refused, as the form refuses it."""
    token = token_for(register(health_org))
    body = referral_body()

    def send():
        return post_json(live_server.url, token, body, None)

    responses = send_together(send, send, hold=partnership.advice_organisation)

    assert sorted(r.status for r in responses) == [201, 409]
    assert Referral.objects.count() == 1
