"""Where the work being audited came from: a context variable set once at each entry point.

An audit entry records who did something (the service's explicit `actor`) and where it came from: the client
address and the path of the HTTP request, or the Celery task that ran it. Services are not handed the HTTP
request for that; each entry point sets the context around the work it runs:

- web requests: `AuditContextMiddleware` (in settings.MIDDLEWARE, after AuthenticationMiddleware);
- Celery tasks: the `task_prerun`/`task_postrun` receivers below (connected in `AuditConfig.ready`), which name
  the task (`celery:<task name>`) and give no address;
- the API: the middleware's context, whose user its token authentication replaces with the client's system
  account (`audit_context_set_user`);
- anything else (a script) wraps its work in `with audit_context(...)`.

Outside every entry point (management commands such as seed_demo, a shell) there is no context, and audit
entries carry no address and no path."""

from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from hjp.core.proxies import client_address


@dataclass(frozen=True)
class AuditContext:
    """Where the current work came from. `path` never holds a query string: one can hold what was searched
    for (a patient's name, an NHS number), and the audit log is read by admins, who see no patient data."""

    user: Any = None
    ip_address: str | None = None
    path: str = ""


_current: ContextVar[AuditContext | None] = ContextVar("hjp_audit_context", default=None)


def current_audit_context() -> AuditContext | None:
    """The context of the work running now, or None outside every entry point."""
    return _current.get()


@contextmanager
def audit_context(*, user=None, ip_address: str | None = None, path: str = ""):
    """Run the enclosed work with this audit context, restoring the one before it on the way out."""
    token = _current.set(AuditContext(user=user, ip_address=ip_address, path=path))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def audit_context_set_user(user) -> None:
    """Name `user` in the current context, keeping its address and path: an entry point that learns who is acting
    only after the middleware ran (the API's bearer token). The middleware restores the context before it."""
    current = _current.get() or AuditContext()
    _current.set(AuditContext(user=user, ip_address=current.ip_address, path=current.path))


def request_audit_context(request):
    """`audit_context` for an HTTP request: its user, client address (through the trusted proxies, as
    django-axes sees it: hjp.core.proxies) and path (without the query string)."""
    return audit_context(user=getattr(request, "user", None), ip_address=client_address(request), path=request.path)


class AuditContextMiddleware:
    """Sets the audit context for every request. Place it after AuthenticationMiddleware (it records
    `request.user`, still lazy: reading the context does not load the user)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_audit_context(request):
            return self.get_response(request)


def celery_task_path(task_name: str) -> str:
    return f"celery:{task_name}"


def task_started(sender=None, task=None, **kwargs) -> None:
    """Celery `task_prerun`: the task's audit entries say which task wrote them (and no address)."""
    task.request.hjp_audit_context_token = _current.set(AuditContext(path=celery_task_path(task.name)))


def task_finished(sender=None, task=None, **kwargs) -> None:
    """Celery `task_postrun`: restore the context from before the task (an eager task runs inside a request)."""
    token: Token | None = getattr(task.request, "hjp_audit_context_token", None)
    if token is not None:
        _current.reset(token)
        task.request.hjp_audit_context_token = None
