"""An optional read replica for the pages that only add figures up.

With DATABASE_REPLICA_URL set (settings.READ_FROM_REPLICA), a view wrapped in `reads_from_replica` reads from the
"replica" database while it runs, its template included: the managers' dashboard, the funder report and its CSV,
whose figures a few seconds behind the primary are still right for a period. Everything else reads from the primary,
so that a page never misses what its user has just written; every write, wherever it happens (the audit entry of
a replica page among them), goes to the primary, and only the primary is migrated."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
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
    configured. Not for a page that shows what its user may have just written."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reading_from_replica():
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
