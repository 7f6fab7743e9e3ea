"""Planner hints for the few queries PostgreSQL plans badly, each sent in the query's own message (`SET LOCAL ...;
SELECT ...`), so that it lasts for that statement's implicit transaction only: nothing stays set on the
connection, and PgBouncer's transaction mode is safe. Inside an atomic block SET LOCAL would last to the block's
end and change the plans of the queries after it, so there the query is planned as usual, as is a write, or a
query run inside an atomic block opened within the hint's block: only reads are hinted. Only for a query read
whole (a server-side cursor, `.iterator()`, would put the SET into its DECLARE), with psycopg2, which returns the
last statement's rows.

- `joins_as_written`: rows found by key, each joined to its many-to-one relations by theirs (a case's page joins
  twelve tables so to its one case). PostgreSQL searches every join order: at a million referrals about 13 ms of
  planning for 0.2 ms of work, and 1 ms with `join_collapse_limit = 1`, which keeps the joins as written. The same
  for a referral's page (8 ms of planning, 2 as written), a case's short lists (each by the key of the case, its
  referral or its consent: 5.5 ms, 3) and triage's page of referrals (found by key among at most three pages of
  ids, the streams' subquery planned on its own, then joined to five relations by their keys: 7.5 ms in all as
  usual, 4 as written).
- `in_index_order`: the first rows of a list an index holds in the list's order, filtered by a join the
  planner cannot see always passes (an advisor's appointments this week are on their open cases). Misjudging how
  few rows pass, it reads and sorts the whole week (2,254 appointments, 30 ms, for the busiest advisor of the
  benchmark) instead of walking the index and stopping at the page's end (0.4 ms); `enable_sort = off` walks it."""

from contextlib import contextmanager

from django.db import connections

JOINS_AS_WRITTEN = "SET LOCAL join_collapse_limit = 1; "
IN_INDEX_ORDER = "SET LOCAL enable_sort = off; "


@contextmanager
def _hinted(prefix: str, using: str):
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return

    def hinted(execute, sql, params, many, context):
        if many or connection.in_atomic_block or not sql.startswith(("SELECT", "(SELECT")):
            return execute(sql, params, many, context)  # a write, or a transaction opened within: as it is
        return execute(prefix + sql, params, many, context)

    with connection.execute_wrapper(hinted):
        yield


def joins_as_written(using: str = "default"):
    """Send the queries run inside the block (on the database `using`) with joins planned in the order written."""
    return _hinted(JOINS_AS_WRITTEN, using)


def in_index_order(using: str = "default"):
    """Send the queries run inside the block (on the database `using`) planned without an explicit sort."""
    return _hinted(IN_INDEX_ORDER, using)
