"""Liveness and readiness, as a load balancer or an orchestrator asks for them: by the host's address over plain
HTTP, with no session, no audit entry and no query but the readiness checks' own."""

import json
import socket

import pytest
from django.db import connections

from hjp.audit.models import AuditEvent

LIVE = "/healthz/live"
READY = "/healthz/ready"
ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"


@pytest.mark.django_db
def test_live_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(LIVE)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_ready_names_each_check_ok_and_opens_no_session_and_writes_no_audit_entry(
    client, django_assert_num_queries, referrer_user
):
    with django_assert_num_queries(1):  # the database check's SELECT 1
        response = client.get(READY)
    assert (response.status_code, response.json()) == (200, ALL_OK)
    assert response.cookies == {} and "sessionid" not in client.cookies

    client.force_login(referrer_user)  # a signed-in browser that opens it: still nothing but the check
    audited = AuditEvent.objects.count()
    with django_assert_num_queries(1):
        assert client.get(READY).status_code == 200
    assert AuditEvent.objects.count() == audited


@pytest.mark.django_db
def test_probes_answer_at_any_host_name_over_plain_http(client, settings):
    """Probes come by the pod's or host's address, inside the network: neither the host name check nor the
    HTTPS redirect stands in their way."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["hjp.example.org"]
    assert client.get(LIVE, HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get(READY, HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get("/accounts/login/", HTTP_HOST="10.0.3.7:8000").status_code == 400  # pages still check


@pytest.mark.django_db
def test_ready_is_503_naming_the_broker_when_redis_is_unreachable(client, settings):
    unreachable = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CELERY_BROKER_URL = unreachable
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": unreachable}}

    response = client.get(READY)

    assert response.status_code == 503
    assert response.json() == {
        "database": "ok",
        "cache": "failed: ConnectionError",
        "broker": "failed: OperationalError",
        "storage": "ok",
    }
    assert "127.0.0.1" not in response.content.decode()  # the kind of error, never its text


def test_ready_is_503_naming_the_database_when_it_is_unreachable(client, django_db_blocker):
    with django_db_blocker.unblock():
        connection = connections["default"]
        connection.close()
        port = connection.settings_dict["PORT"]
        connection.settings_dict["PORT"] = _closed_port()
        try:
            response = client.get(READY)
        finally:
            connection.close()
            connection.settings_dict["PORT"] = port

    assert response.status_code == 503
    assert response.json() == {**ALL_OK, "database": "failed: OperationalError"}
    assert json.loads(client.get(LIVE).content) == {"status": "ok"}  # alive all the same: no restart for this


@pytest.mark.django_db
def test_ready_is_503_naming_the_storage_when_the_bucket_is_missing(client, evidence_bucket, settings):
    assert client.get(READY).json() == ALL_OK
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"

    response = client.get(READY)

    assert (response.status_code, response.json()) == (503, {**ALL_OK, "storage": "failed: ClientError"})
