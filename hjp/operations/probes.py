"""What a load balancer, an orchestrator and Prometheus ask of each web process, answered before anything else.

- /healthz/live: the process answers (nothing else is touched: a database outage must not get every web process
  restarted);
- /healthz/ready: it can serve: the database, the cache, the Celery broker and the evidence storage answer. 200
  with {"database": "ok", ...}, or 503 naming what failed (the kind of error, never its text, which can hold
  addresses or credentials);
- /metrics: Prometheus metrics (hjp.operations.metrics), only with `Authorization: Bearer <METRICS_TOKEN>`, and
  not at all (404) when METRICS_TOKEN is unset.

`ProbeMiddleware` answers these in settings.MIDDLEWARE right after the Permissions-Policy header: probes come by the host's address over plain HTTP
from inside the network, so they are answered before the host name check and the HTTPS redirect, and they open no
session, write no audit entry and are not logged or counted as requests (a probe every few seconds would drown
the access log). No page of hjp lives under these paths."""

import hmac
import logging

import kombu
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpResponse, JsonResponse

from hjp.core.storage import private_storage
from hjp.operations import metrics

logger = logging.getLogger(__name__)

LIVE_PATH = "/healthz/live"
READY_PATH = "/healthz/ready"
METRICS_PATH = "/metrics"
CHECK_TIMEOUT_SECONDS = 2


def _database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        connection.close()  # the next request opens a fresh connection rather than reuse a broken one
        raise


def _cache() -> None:
    caches["default"].get("hjp:readiness")


def _broker() -> None:
    with kombu.Connection(settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)


def _storage() -> None:
    private_storage.check()


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "storage": _storage}


def readiness() -> dict[str, str]:
    """Each check's name -> "ok", or the kind of error that stopped it (e.g. "failed: OperationalError")."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure means not ready; the probe itself must never fail
            logger.warning("Readiness check %s failed: %s", name, type(error).__name__)
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = "ok"
    return results


def _metrics(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("Not found", status=404, content_type="text/plain")
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
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
            results = readiness()
            ready = all(result == "ok" for result in results.values())
            return JsonResponse(results, status=200 if ready else 503)
        if request.path == METRICS_PATH:
            return _metrics(request)
        return self.get_response(request)
