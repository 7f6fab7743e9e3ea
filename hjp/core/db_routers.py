"""An optional read replica for the pages that only add figures up.

With DATABASE_REPLICA_URL set (settings.READ_FROM_REPLICA), a view wrapped in `reads_from_replica` reads from the
"replica" database while it runs, its template included: the managers' dashboard, the funder report and its CSV,
whose figures a few seconds behind the primary are still right for a period. Everything else reads from the primary,
so that a page never misses what its user has just written; every write, wherever it happens (the audit entry of
a replica page among them), goes to the primary, and only the primary is migrated.

The replica is optional: when it does not answer, those pages read from the primary (`replica_usable`), and this
web process asks the replica again only after REPLICA_RETRY_SECONDS, so an outage of the replica costs a failed
connection every half minute, not a failed page."""

import functools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_RETRY_SECONDS = 30
_replica_down_until = 0.0
_replica_lock = threading.Lock()


def replica_usable() -> bool:
    """Whether the replica answers: its connection is open (opened now, or checked as CONN_HEALTH_CHECKS checks a
    kept one). When it does not, False until REPLICA_RETRY_SECONDS have passed, in this process."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    connection = connections[REPLICA]
    try:
        with connection.cursor():  # (a kept connection's health check; no query of its own)
            pass
    except DatabaseError as error:
        connection.close()
        with _replica_lock:
            _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning(
            "The read replica does not answer (%s); the figure pages read from the primary for %s seconds.",
            type(error).__name__,
            REPLICA_RETRY_SECONDS,
        )
        return False
    return True


def forget_replica_state() -> None:
    """Ask the replica again at the next figure page (tests; a process that knows it is back)."""
    global _replica_down_until
    with _replica_lock:
        _replica_down_until = 0.0


_reading_from_replica: ContextVar[bool] = ContextVar("hjp_reading_from_replica", default=False)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads in this block go to the replica, when one is configured."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view):
    """For a view that shows only figures: its reads, the template's included, go to the replica when one is
    configured and answers (else from the primary). Not for a page that shows what its user may have just written."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        use_replica = settings.READ_FROM_REPLICA and replica_usable()
        with reading_from_replica() if use_replica else nullcontext():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if settings.READ_FROM_REPLICA and _reading_from_replica.get():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS  # never the replica, even for an object read from it

    def allow_relation(self, obj1, obj2, **hints):
        return {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
