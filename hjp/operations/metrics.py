"""Prometheus metrics, scraped at /metrics (hjp.operations.probes) with the bearer token METRICS_TOKEN.

Two kinds of figure, each counted where it is true:
- per process, what that process served: requests by method, route name and status, and their latency by route
  name. Under gunicorn's several worker processes these live in files in PROMETHEUS_MULTIPROC_DIR (one folder
  per host, emptied before gunicorn starts), which every worker adds up when scraped (prometheus_client's
  multiprocess mode); without it, in the process's memory.
- for the whole installation, read when scraped from what every host shares, so any web process gives the same
  figure (aggregate with max(), not sum()): the outbox's waiting messages and the age of the oldest, deliveries
  by status (those a person may need to act on), from PostgreSQL through indexed columns; and Celery task
  failures, which each worker, on whatever host, adds to a counter in Redis (the broker every worker shares)."""

import contextlib
import logging
import os

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
TASK_FAILURES_KEY = "hjp:metrics:celery_task_failures"
# Deliveries a person may have to act on, counted through the status index. Sent and cancelled ones only grow:
# counting them would read the whole table at every scrape.
WATCHED_DELIVERY_STATUSES = ("pending", "sending", "failed", "unknown")

REQUESTS = Counter("hjp_http_requests", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram(
    "hjp_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name",
    ["route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


def _redis() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


def count_task_failure(sender=None, **kwargs) -> None:
    """Celery `task_failure`: one more failure of this task, in Redis, where every worker's count adds up.
    Without Redis (tasks run in the web process, `make run`) nothing is counted."""
    client = _redis()
    if client is None or sender is None:
        return
    try:
        client.hincrby(TASK_FAILURES_KEY, sender.name, 1)
    except redis.RedisError:
        logger.warning("Could not count a failure of task %s: Redis is unreachable", sender.name)


class SharedFiguresCollector:
    """The installation-wide figures, read at each scrape: 2 indexed queries and one Redis read."""

    def collect(self):
        from hjp.notifications.models import Delivery, Message

        waiting = Message.objects.filter(status=Message.Status.PENDING).aggregate(
            count=Count("id"), oldest=Min("created_at")
        )
        yield GaugeMetricFamily(
            "hjp_outbox_waiting_messages", "Messages in the outbox waiting to be delivered", value=waiting["count"]
        )
        age = (timezone.now() - waiting["oldest"]).total_seconds() if waiting["oldest"] else 0
        yield GaugeMetricFamily(
            "hjp_outbox_oldest_waiting_seconds", "Age of the oldest message waiting to be delivered", value=age
        )
        counts = dict(
            Delivery.objects.filter(status__in=WATCHED_DELIVERY_STATUSES)
            .values_list("status")
            .annotate(count=Count("id"))
            .order_by()
        )
        deliveries = GaugeMetricFamily(
            "hjp_deliveries", "Deliveries by status (those a person may have to act on)", labels=["status"]
        )
        for status in WATCHED_DELIVERY_STATUSES:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries
        client = _redis()
        if client is not None:
            failures = CounterMetricFamily(
                "hjp_celery_task_failures", "Celery tasks that failed, on every worker", labels=["task"]
            )
            with contextlib.suppress(redis.RedisError):
                for task, count in sorted(client.hgetall(TASK_FAILURES_KEY).items()):
                    failures.add_metric([task.decode()], int(count))
            yield failures


def scrape() -> bytes:
    """The text exposition of every metric: this host's processes' and the installation's."""
    served = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(served)
    else:
        served.register(_ThisProcess())
    shared = CollectorRegistry()
    shared.register(SharedFiguresCollector())
    return generate_latest(served) + generate_latest(shared)


def fold_dead_process(pid: int, folder: str) -> None:
    """Fold what a worker process that has exited counted into the folder's `*_dead.db` files, one per metric
    type, and delete its own files: gunicorn's `--max-requests` recycles workers, each of which would otherwise
    leave two files that every scrape reads again, for ever. Counters and histograms are sums over processes, so
    the totals stay the same. Called by gunicorn's master only (gunicorn.conf.py `child_exit`), one exit at a
    time; a scrape in the instant between the fold and the delete may count that process twice."""
    from prometheus_client.mmap_dict import MmapedDict
    from prometheus_client.multiprocess import mark_process_dead

    mark_process_dead(pid, folder)
    for kind in ("counter", "histogram"):
        exited = os.path.join(folder, f"{kind}_{pid}.db")
        if not os.path.exists(exited):
            continue
        dead = MmapedDict(os.path.join(folder, f"{kind}_dead.db"))
        try:
            for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(exited):
                total, _ = dead.read_value(key)
                dead.write_value(key, total + value, timestamp)
        finally:
            dead.close()
        os.remove(exited)


class _ThisProcess:
    """The request metrics of this process alone (no PROMETHEUS_MULTIPROC_DIR: one process, `make run`)."""

    def collect(self):
        yield from REQUESTS.collect()
        yield from LATENCY.collect()
