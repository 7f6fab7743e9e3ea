"""What a load balancer, an orchestrator and Prometheus ask of each web process, answered before anything else.

- /healthz/live: the process answers (nothing else is touched: a database outage must not get every web process
  restarted);
- /healthz/ready: it can serve: the database, the cache, the Celery broker and the evidence storage answer. 200
  with {"database": "ok", ...}, or 503 naming what failed (the kind of error, never its text, which can hold
  addresses or credentials). The read replica (DATABASE_REPLICA_URL) is checked and named too, but it is
  optional: without it the figure pages read from the primary (hjp.core.db_routers.replica_usable), so a replica
  down leaves the process ready (200, "replica": "failed: ...") rather than take every web process out of the
  load balancer at once. Each check has a time limit of a couple of seconds (a dependency that accepts the
  connection and never answers must not hold a worker until gunicorn kills it), and the result is kept in the
  process for READINESS_CACHE_SECONDS, so a flood of probes costs one round of checks. The names of the checks
  go only to a client on loopback or a private network (as hjp.core.proxies.client_address sees it) or with the
  METRICS_TOKEN; anyone else gets the status code and {"status": "ready"} or {"status": "not ready"};
- /metrics: Prometheus metrics (hjp.operations.metrics), only with `Authorization: Bearer <METRICS_TOKEN>`, and
  not at all (404) when METRICS_TOKEN is unset.

`ProbeMiddleware` answers these in settings.MIDDLEWARE right after the Permissions-Policy header: probes come by the host's address over plain HTTP
from inside the network, so they are answered before the host name check and the HTTPS redirect, and they open no
session, write no audit entry and are not logged or counted as requests (a probe every few seconds would drown
the access log). No page of hjp lives under these paths."""

import hmac
import ipaddress
import logging
import threading
import time

import kombu
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse, JsonResponse

from hjp.core.db_routers import REPLICA
from hjp.core.proxies import client_address
from hjp.core.storage import private_storage
from hjp.operations import metrics

logger = logging.getLogger(__name__)

LIVE_PATH = "/healthz/live"
READY_PATH = "/healthz/ready"
METRICS_PATH = "/metrics"
CHECK_TIMEOUT_SECONDS = 2
READINESS_CACHE_SECONDS = 5


def _select_one(alias: str) -> None:
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # the next request opens a fresh connection rather than reuse a broken one
        raise


def _database() -> None:
    _select_one(DEFAULT_DB_ALIAS)


def _replica() -> None:
    _select_one(REPLICA)


def _cache() -> None:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.get("hjp:readiness")
        return
    # Its own connection with a time limit, whatever OPTIONS the cache was given.
    import redis

    for server in cache._servers:
        client = redis.Redis.from_url(
            server, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()


def _broker() -> None:
    limits = {"socket_connect_timeout": CHECK_TIMEOUT_SECONDS, "socket_timeout": CHECK_TIMEOUT_SECONDS}
    with kombu.Connection(
        settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT_SECONDS, transport_options=limits
    ) as connection:
        connection.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)


def _storage() -> None:
    private_storage.check(timeout=CHECK_TIMEOUT_SECONDS)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "storage": _storage}


def checks() -> dict:
    """CHECKS, and the read replica right after the database when one is configured (DATABASE_REPLICA_URL): the
    figure pages read from it when it answers (OPTIONAL)."""
    if not settings.READ_FROM_REPLICA:
        return CHECKS
    return {"database": _database, "replica": _replica, **CHECKS}


_last_results: tuple[float, dict[str, str]] | None = None
_checking = threading.Lock()


def readiness() -> dict[str, str]:
    """Each check's name -> "ok", or the kind of error that stopped it (e.g. "failed: OperationalError"), as
    found at most READINESS_CACHE_SECONDS ago by this process (threads asking at once wait for one round)."""
    global _last_results
    with _checking:
        if _last_results is not None and time.monotonic() - _last_results[0] < READINESS_CACHE_SECONDS:
            return _last_results[1]
        results = _run_checks()
        _last_results = (time.monotonic(), results)
        return results


def forget_readiness() -> None:
    """Drop the kept result: the next probe runs the checks (tests; a process that knows things changed)."""
    global _last_results
    with _checking:
        _last_results = None


def _run_checks() -> dict[str, str]:
    results = {}
    for name, check in checks().items():
        try:
            check()
        except Exception as error:  # any failure means not ready; the probe itself must never fail
            logger.warning("Readiness check %s failed: %s", name, type(error).__name__)
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results


def _has_metrics_token(request) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())


def _from_inside(request) -> bool:
    """The client is on loopback or a private network, or shows the METRICS_TOKEN."""
    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        address = None
    inside = address is not None and (address.is_loopback or address.is_private)
    return inside or _has_metrics_token(request)


# Named in the answer, but not needed to serve: without it, its pages read from the primary.
OPTIONAL = {"replica"}


def _ready(request) -> JsonResponse:
    results = readiness()
    status = 200 if all(result == "ok" for name, result in results.items() if name not in OPTIONAL) else 503
    if not _from_inside(request):
        return JsonResponse({"status": "ready" if status == 200 else "not ready"}, status=status)
    return JsonResponse(results, status=status)


def _metrics(request) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    if not _has_metrics_token(request):
        response = HttpResponse("A bearer token is needed", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(metrics.scrape(), content_type=metrics.CONTENT_TYPE)


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVE_PATH:
            return JsonResponse({"status": "ok"})
        if request.path == READY_PATH:
            return _ready(request)
        if request.path == METRICS_PATH:
            return _metrics(request)
        return self.get_response(request)
