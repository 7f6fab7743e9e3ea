"""A request id on every log record, and one access line per request with no patient data.

The id comes from the client's (or the load balancer's) X-Request-ID header when it is a sane token, else it is
made here; it is sent back in the response's X-Request-ID header, held in a context variable for the request's
work, put on every log record by `RequestIdFilter` (in settings.LOGGING), and carried in the headers of the
Celery tasks the request enqueues, so a worker's log lines about that work bear it too.

The access line names the route (the URL pattern's name, never the path: paths hold ids) and the user by id
alone; it never holds the query string or anything posted, where a patient's name or NHS number can be."""

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token

from django.conf import settings
from django.utils.functional import empty

from hjp.operations import metrics

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "hjp_request_id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NO_REQUEST = "-"

access_logger = logging.getLogger("hjp.access")
_request_id: ContextVar[str] = ContextVar("hjp_request_id", default=NO_REQUEST)


def current_request_id() -> str:
    """The id of the request (or of the request that enqueued the task) being worked on now, or "-"."""
    return _request_id.get()


def request_id_from(value: str | None) -> str:
    """The incoming id if it is a sane token (letters, digits, . _ : -, at most 128), else a new one."""
    if value and SANE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts `request_id` on every record (settings.LOGGING attaches it to the handlers)."""

    def filter(self, record):
        record.request_id = current_request_id()
        return True


def route_name(request) -> str:
    """The label of a request in the access log and the metrics: the URL pattern's name, "static" for the
    files WhiteNoise serves, "unmatched" for an address no pattern matches. Never the path."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    if request.path.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


def _user_id(request) -> int | None:
    """The signed-in user's id if the request already loaded the user: the log line costs no query."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestMiddleware:
    """Before every other middleware but the Permissions-Policy header and the probes, so that it times and logs
    everything the others do (redirects included)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = _request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - started
            route = route_name(request)
            metrics.observe_request(method=request.method, route=route, status=response.status_code, seconds=duration)
            user_id = _user_id(request)
            access_logger.info(
                "%s %s %s %.1fms user=%s",
                request.method,
                route,
                response.status_code,
                duration * 1000,
                user_id if user_id is not None else NO_REQUEST,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(duration * 1000, 1),
                    "user_id": user_id,
                },
            )
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            _request_id.reset(token)


def add_request_id_to_task(sender=None, headers=None, **kwargs) -> None:
    """Celery `before_task_publish`: a task enqueued while a request is worked on carries its id."""
    if headers is not None and current_request_id() != NO_REQUEST:
        headers.setdefault(TASK_HEADER, current_request_id())


def task_started(sender=None, task=None, **kwargs) -> None:
    """Celery `task_prerun`: the task's log records bear the id of the request that enqueued it (an eager task,
    run inside the request, keeps the request's)."""
    request_id = getattr(task.request, TASK_HEADER, None)
    if request_id and SANE_REQUEST_ID.fullmatch(str(request_id)):
        task.request.hjp_request_id_token = _request_id.set(str(request_id))


def task_finished(sender=None, task=None, **kwargs) -> None:
    token: Token | None = getattr(task.request, "hjp_request_id_token", None)
    if token is not None:
        _request_id.reset(token)
        task.request.hjp_request_id_token = None
