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

    @property
    def least(self) -> int:
        """The least number it stands for: past the cap, one more than the cap."""
        return self.n + 1 if self.more else self.n

    def __lt__(self, other) -> bool:
        # Compared as the least number it stands for: "1,000+" is not less than 1,001, and is at least 1,001.
        if isinstance(other, Capped | int):
            return self.least < (other.least if isinstance(other, Capped) else other)
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

    def __float__(self) -> float:  # (the `pluralize` filter asks for it)
        return float(self.n)

    @classmethod
    def of(cls, rows: int, cap: int) -> "Capped":
        """What a count of rows read with LIMIT cap + 1 stands for."""
        return cls(min(rows, cap), rows > cap)


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
    return {name: Capped.of(n, cap) for name, n in zip(querysets, row, strict=True)}


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> Capped:
    """One queryset's rows counted up to `cap` (`capped_counts`)."""
    return capped_counts(cap, count=queryset)["count"]


class CappedRows(Subquery):
    """An annotation: the rows of a queryset that refers to each outer row (OuterRef), read with LIMIT cap + 1 and
    counted, so each outer row's count reads at most cap + 1 rows whatever it has. Its value is that number of
    rows (0 to cap + 1): `Capped.of(value, cap)` is what it stands for."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) capped_rows)"

    def __init__(self, queryset: QuerySet, cap: int = COUNT_CAP):
        super().__init__(queryset.order_by().values("pk")[: cap + 1], output_field=IntegerField())
