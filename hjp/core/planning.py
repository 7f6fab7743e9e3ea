"""A planner hint for the few queries whose written join order is already the best one: one row, found by its
primary key, joined to its many-to-one relations by theirs (a case's page joins twelve tables so). PostgreSQL
searches every join order of such a query: at a million referrals about 13 ms of planning for 0.2 ms of work, and
1 ms with `join_collapse_limit = 1`, which keeps the joins in the order written.

The setting goes in the same message as the query (`SET LOCAL ...; SELECT ...`), so it lasts for that statement's
implicit transaction only: nothing stays set on the connection, and PgBouncer's transaction mode is safe. Inside an
atomic block SET LOCAL would last to the block's end and change the plans of the queries after it, so there the
query is planned as usual."""

from contextlib import contextmanager

from django.db import connections

JOINS_AS_WRITTEN = "SET LOCAL join_collapse_limit = 1; "


def _joins_as_written(execute, sql, params, many, context):
    return execute(JOINS_AS_WRITTEN + sql, params, many, context)


@contextmanager
def joins_as_written(using: str = "default"):
    """Send the queries run inside the block (on the database `using`) with joins planned in the order written."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.execute_wrapper(_joins_as_written):
        yield
