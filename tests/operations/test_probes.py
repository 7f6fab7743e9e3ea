"""Liveness and readiness, as a load balancer or an orchestrator asks for them: by the host's address over plain
HTTP, with no session, no audit entry and no query but the readiness checks' own."""

import contextlib
import json
import socket
import threading

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from hjp.audit.models import AuditEvent
from hjp.operations import probes

LIVE = "/healthz/live"
READY = "/healthz/ready"
ALL_OK = {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


@contextlib.contextmanager
def _silent_server():
    """A loopback address that accepts TCP connections and never answers: a dependency that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"


@pytest.fixture(autouse=True)
def fresh_readiness():
    """Each test finds no readiness result kept from another (the process keeps one for a few seconds)."""
    probes.forget_readiness()
    yield
    probes.forget_readiness()


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
    probes.forget_readiness()
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
    probes.forget_readiness()

    response = client.get(READY)

    assert (response.status_code, response.json()) == (503, {**ALL_OK, "storage": "failed: ClientError"})


@pytest.mark.django_db
def test_a_flood_of_probes_within_a_few_seconds_runs_the_checks_once(client, django_assert_num_queries, settings):
    with django_assert_num_queries(1):  # the database check, once for all five
        statuses = [client.get(READY).status_code for _ in range(5)]
    assert statuses == [200] * 5

    # A failure found is kept as long: five more probes, no new check, the same answer.
    probes.forget_readiness()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    with django_assert_num_queries(1):
        answers = [client.get(READY) for _ in range(5)]
    assert {(answer.status_code, answer.json()["broker"]) for answer in answers} == {(503, "failed: OperationalError")}


@pytest.mark.django_db
def test_ready_is_503_not_a_hung_worker_when_the_cache_broker_and_storage_accept_and_never_answer(
    client, evidence_bucket, settings
):
    """The worker is given back within a few seconds (each check has a time limit of its own), long before
    gunicorn would kill it at 30."""
    with _silent_server() as port:
        silent = f"redis://127.0.0.1:{port}/0"
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": silent}}
        settings.CELERY_BROKER_URL = silent
        settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{port}"
        answers = []

        def probe_once():
            try:
                answers.append(client.get(READY))
            finally:
                connections.close_all()  # this thread's own database connection

        probe = threading.Thread(target=probe_once, daemon=True)
        probe.start()
        probe.join(timeout=20)  # not a timing assertion: without limits, boto alone waits 60 s a try, with retries
        assert not probe.is_alive(), "the readiness probe hung on a silent dependency"

    assert answers[0].status_code == 503
    assert answers[0].json() == {
        "database": "ok",
        "cache": "failed: TimeoutError",
        "broker": "failed: OperationalError",
        "storage": "failed: ReadTimeoutError",
    }


@pytest.mark.django_db
def test_only_a_client_inside_the_network_or_with_the_metrics_token_is_told_which_check_failed(client, settings):
    settings.METRICS_TOKEN = "metrics-token-for-the-tests-only-0123456789"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    outside = client.get(READY, REMOTE_ADDR="81.2.69.160")
    assert (outside.status_code, outside.json()) == (503, {"status": "not ready"})
    with_token = client.get(
        READY, REMOTE_ADDR="81.2.69.160", HTTP_AUTHORIZATION="Bearer metrics-token-for-the-tests-only-0123456789"
    )
    assert (with_token.status_code, with_token.json()["broker"]) == (503, "failed: OperationalError")
    for inside in ("127.0.0.1", "10.0.3.7", "192.168.1.20", "::1"):
        assert client.get(READY, REMOTE_ADDR=inside).json()["broker"] == "failed: OperationalError"

    # Behind the HTTPS proxy (TRUSTED_PROXY_COUNT), the client is the one the proxy names, not the proxy.
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = client.get(READY, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="81.2.69.160")
    assert proxied.json() == {"status": "not ready"}

    settings.CELERY_BROKER_URL = "memory://"
    probes.forget_readiness()
    assert client.get(READY, REMOTE_ADDR="81.2.69.160").json() == {"status": "ready"}


# With a read replica (DATABASE_REPLICA_URL), readiness checks it too. Tested with Django's test mirror: the
# "replica" alias is a second connection to the test database (hjp/settings/test.py).
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_ready_checks_the_read_replica_when_one_is_configured(client, settings):
    settings.READ_FROM_REPLICA = True
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(READY)
    assert (response.status_code, response.json()) == (200, {"database": "ok", "replica": "ok", **ALL_OK})
    assert [q["sql"] for q in primary.captured_queries] == [q["sql"] for q in replica.captured_queries] == ["SELECT 1"]

    settings.READ_FROM_REPLICA = False  # none configured: nothing more is asked
    probes.forget_readiness()
    assert client.get(READY).json() == ALL_OK


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_ready_stays_200_naming_the_replica_when_it_is_unreachable(client, settings):
    # Optional: the figure pages read from the primary without it (tests/core/test_read_replica.py), so a replica
    # down must not take every web process out of the load balancer.
    settings.READ_FROM_REPLICA = True
    replica = connections["replica"]
    replica.close()
    port = replica.settings_dict["PORT"]
    replica.settings_dict["PORT"] = _closed_port()
    try:
        response = client.get(READY)
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port

    assert response.status_code == 200
    assert response.json() == {**ALL_OK, "replica": "failed: OperationalError"}
    assert "127.0.0.1" not in response.content.decode()
