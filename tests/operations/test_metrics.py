"""Prometheus metrics at /metrics: behind a bearer token (or off), requests and latency by route name (never a
path with ids), the outbox and deliveries read from the database at each scrape in a fixed number of queries,
Celery task failures counted in Redis from any worker, and the sum of every gunicorn worker process."""

import json
import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from hjp.celery import app
from hjp.notifications.models import Delivery, Message
from tests.core.test_production import _get, procfile_web

TOKEN = "metrics-token-for-the-tests-only-0123456789"
AUTHORISED = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _samples(text: str) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics", **AUTHORISED)
    assert response.status_code == 200
    return _samples(response.content.decode())


def _requests(samples, route: str, status: str = "200") -> float:
    return samples.get(("hjp_http_requests_total", (("method", "GET"), ("route", route), ("status", status))), 0)


@pytest.mark.django_db
def test_without_a_token_configured_there_are_no_metrics(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_metrics_are_given_only_for_the_bearer_token(client, metrics_token):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=TOKEN).status_code == 401
    response = client.get("/metrics", **AUTHORISED)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_route_name_never_by_path(client, metrics_token, referral, referrer_user):
    before = _scrape(client)
    client.force_login(referrer_user)
    assert client.get(f"/referrals/{referral.pk}/").status_code == 200
    assert client.get("/referrals/999999/").status_code == 404
    assert client.get("/no-such-page/").status_code == 404
    after = _scrape(client)

    assert _requests(after, "referrals:detail") == _requests(before, "referrals:detail") + 1
    assert _requests(after, "referrals:detail", "404") == _requests(before, "referrals:detail", "404") + 1
    assert _requests(after, "unmatched", "404") == _requests(before, "unmatched", "404") + 1
    count = ("hjp_http_request_duration_seconds_count", (("route", "referrals:detail"),))
    assert after[count] == before.get(count, 0) + 2
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert {"referrals:detail", "unmatched"} <= routes
    assert [
        route for route in routes if not re.fullmatch(r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*", route)
    ] == []  # no path, no id


def _outbox(recipient, *, waiting: int, failed: int, unknown: int) -> None:
    now = timezone.now()
    messages = Message.objects.bulk_create(
        Message(recipient=recipient, kind="status_notice", key=f"test:{n}", subject="s", body="b")
        for n in range(waiting + failed + unknown)
    )
    Delivery.objects.bulk_create(
        [Delivery(message=m, channel="email", status="failed", attempts=8) for m in messages[:failed]]
        + [
            Delivery(message=m, channel="email", status="unknown", attempts=1, last_attempt_at=now)
            for m in messages[failed : failed + unknown]
        ]
        + [Delivery(message=m, channel="inbox", status="pending") for m in messages[failed + unknown :]]
    )
    Message.objects.filter(pk__in=[m.pk for m in messages[: failed + unknown]]).update(status="delivered")


@pytest.mark.django_db
@pytest.mark.parametrize(("waiting", "failed", "unknown"), [(1, 1, 0), (40, 25, 3)])
def test_the_outbox_backlog_and_deliveries_by_status_are_read_at_each_scrape_in_two_queries(
    client, metrics_token, referrer_user, django_assert_num_queries, waiting, failed, unknown
):
    _outbox(referrer_user, waiting=waiting, failed=failed, unknown=unknown)

    with django_assert_num_queries(2):
        samples = _scrape(client)

    assert samples[("hjp_outbox_waiting_messages", ())] == waiting
    assert samples[("hjp_outbox_oldest_waiting_seconds", ())] < 60
    deliveries = {labels[0][1]: value for (name, labels), value in samples.items() if name == "hjp_deliveries"}
    assert deliveries == {"pending": waiting, "sending": 0, "failed": failed, "unknown": unknown}


@app.task(name="tests.operations.always_fails")
def always_fails():
    raise RuntimeError("a failure for the metrics")


@pytest.mark.django_db
def test_task_failures_are_counted_in_the_shared_redis_whichever_worker_ran_them(client, metrics_token, redis_url):
    failures = ("hjp_celery_task_failures_total", (("task", "tests.operations.always_fails"),))
    assert failures not in _scrape(client)

    for _ in range(2):
        # Celery's own tracer runs it and sends task_failure, as in a worker (throw=False: as a worker, it does
        # not raise the task's error to the caller).
        assert always_fails.apply(throw=False).failed()

    assert _scrape(client)[failures] == 2


@pytest.mark.django_db
def test_under_gunicorn_every_worker_process_reports_the_requests_of_all_of_them(db, redis_url, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    # The files a previous run left (5 sign-in pages): emptied when gunicorn starts, not counted again.
    previous_run = (
        "from prometheus_client import Counter; Counter('hjp_http_requests', '', ['method', 'route', 'status'])"
    )
    previous_run += ".labels('GET', 'login', '200').inc(5)"
    subprocess.run(
        [sys.executable, "-c", previous_run], env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}, check=True
    )
    assert list(folder.glob("counter_*.db"))

    with procfile_web(
        redis_url=redis_url,
        tmp_path=tmp_path,
        WEB_CONCURRENCY="3",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
        METRICS_TOKEN=TOKEN,
    ) as (base, log):
        sent = 0
        # Bursts of 12 at once, until more than one worker process has served some (on a busy machine one
        # process can take a whole burst); the sum must then be every request, whichever process answers.
        for _ in range(10):
            with ThreadPoolExecutor(max_workers=12) as pool:
                statuses = list(pool.map(lambda _: _get(f"{base}/accounts/login/")[0], range(12)))
            assert statuses == [200] * 12, log.read_text()
            sent += 12
            if len({line["process"] for line in _access(log)}) > 1:
                break
        answers = []
        for _ in range(6):  # scrapes land on whichever worker is free: each must add up all three
            request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append(_requests(_samples(response.read().decode()), "login"))
    assert answers == [sent] * 6, log.read_text()
    assert log.read_text().count("Booting worker") == 3
    # Production logs JSON: one access line per sign-in page, from more than one worker process.
    access = _access(log)
    assert [(line["method"], line["status"], line["user_id"]) for line in access] == [("GET", 200, None)] * sent
    assert len({line["request_id"] for line in access}) == sent and len({line["process"] for line in access}) > 1


def _access(log) -> list[dict]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "hjp.access" and line["route"] == "login"]


def test_a_worker_that_exits_leaves_its_counts_but_not_its_files(tmp_path):
    """gunicorn recycles workers (--max-requests): each exit folds that worker's counts into the folder's
    `*_dead.db` files (gunicorn.conf.py child_exit), so the folder stops growing and the totals do not drop."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from hjp.operations.metrics import fold_dead_process

    folder = tmp_path / "prometheus"
    folder.mkdir()
    served = "from hjp.operations.metrics import observe_request; import os; print(os.getpid())\n"
    served += "observe_request(method='GET', route='login', status=200, seconds=0.02)\n" * 3
    pids = [
        int(
            subprocess.run(
                [sys.executable, "-c", served],
                env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(3)
    ]

    def totals():
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(folder))
        samples = _samples(generate_latest(registry).decode())
        return _requests(samples, "login"), samples[("hjp_http_request_duration_seconds_count", (("route", "login"),))]

    assert totals() == (9, 9) and len(list(folder.glob("*.db"))) == 6
    for pid in pids:
        fold_dead_process(pid, str(folder))
        assert totals() == (9, 9)
    assert sorted(path.name for path in folder.glob("*.db")) == ["counter_dead.db", "histogram_dead.db"]


def test_gunicorn_folds_the_files_of_the_workers_it_recycles(tmp_path):
    """gunicorn.conf.py's child_exit, under gunicorn itself: a worker recycled every 2 requests leaves no files
    of its own, and the counts stay."""
    import time

    from tests.support.celery_worker import free_port

    folder = tmp_path / "prometheus"
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="hjp.settings.local", PROMETHEUS_MULTIPROC_DIR=str(folder))
    command = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "hjp.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--max-requests", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answered = 0
        deadline = time.monotonic() + 60
        while answered < 6:
            assert time.monotonic() < deadline, "gunicorn did not answer"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as response:
                    answered += response.status == 200
            except OSError:
                time.sleep(0.2)  # starting, or between a recycled worker and the next
    finally:
        server.terminate()
        server.wait(30)

    assert sorted(path.name for path in folder.glob("*.db")) == ["counter_dead.db", "histogram_dead.db"]
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    assert _requests(_samples(generate_latest(registry).decode()), "login") == 6
