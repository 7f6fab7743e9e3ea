"""Counts that cost the same however many rows match: each is counted up to a cap, and shown as "1,000+" beyond
it. The one rule for a count on a page about open work (a triage queue, a caseload, an inbox), which at national
scale can hold tens of thousands of rows: past the cap the exact number changes no decision on the page, and
reading every row to find it would make the page slower the more work is waiting. (Figures for funders are exact:
they come from the running totals, outcomes/running_figures.py.)"""

from dataclasses import dataclass
from functools import total_ordering

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import IntegerField, QuerySet, Subquery

COUNT_CAP = 1000


@total_ordering
@dataclass(frozen=True)
class Capped:
    """A count of at most `cap`; `more` when there were more than `cap` rows. Prints as "1,000+" then."""

    n: int
    more: bool = False

    def __str__(self) -> str:
        return f"{self.n:,}+" if self.more else f"{self.n:,}"

    def __int__(self) -> int:
        return self.n

    def __bool__(self) -> bool:
        return self.n > 0

    def __eq__(self, other) -> bool:
        if isinstance(other, Capped):
            return (self.n, self.more) == (other.n, other.more)
        if isinstance(other, int):
            return not self.more and self.n == other
        return NotImplemented

    def __lt__(self, other) -> bool:
        if isinstance(other, Capped | int):
            return self.n < int(other) and not (self.more and self.n >= int(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.n, self.more))

    def __add__(self, other) -> "Capped":
        if isinstance(other, Capped):
            return Capped(self.n + other.n, self.more or other.more)
        if isinstance(other, int):
            return Capped(self.n + other, self.more)
        return NotImplemented

    __radd__ = __add__


def capped_counts(cap: int = COUNT_CAP, **querysets: QuerySet) -> dict[str, Capped]:
    """{name: the rows of that queryset, counted up to `cap`} in one query, whatever the number of querysets:
    each is read with LIMIT cap + 1, so a count never reads more than cap + 1 rows of its index."""
    if not querysets:
        return {}
    db = next(iter(querysets.values())).db
    connection = connections[db]
    parts, params = [], []
    for i, queryset in enumerate(querysets.values()):
        inner = queryset.order_by().values("pk")[: cap + 1]
        try:
            sql, inner_params = inner.query.get_compiler(using=db).as_sql()
        except EmptyResultSet:  # (a filter that can match nothing, such as pk__in=[])
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name(f'capped_{i}')})")
        params.extend(inner_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: Capped(min(n, cap), n > cap) for name, n in zip(querysets, row, strict=True)}


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> Capped:
    """One queryset's rows counted up to `cap` (`capped_counts`)."""
    return capped_counts(cap, count=queryset)["count"]


class CappedCount(Subquery):
    """An annotation: the rows of a queryset (usually filtered on an OuterRef) counted up to `cap`, as an int
    that is `cap` + 1 when there are more (`as_capped` reads it). Reads at most `cap` + 1 rows for each outer
    row, so a list of people with their open work costs the same however much work they have."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped)"

    def __init__(self, queryset: QuerySet, cap: int = COUNT_CAP):
        super().__init__(queryset.order_by().values("pk")[: cap + 1], output_field=IntegerField())


def as_capped(n: int, cap: int = COUNT_CAP) -> Capped:
    """A CappedCount's value as a Capped."""
    return Capped(min(n, cap), n > cap)
