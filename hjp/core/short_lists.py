"""Several short lists, of different models, read in one query.

A page that shows a handful of short lists (a case's issues, deadlines, evidence requests, ...) would spend a
query on each. `read_short_lists` reads them all with one UNION ALL: each list's rows fill their own columns of
one wide row (NULL, cast to the column's type, in every other list's), numbered in the list's order by ROW_NUMBER(), and come back as model
instances with the forward relations named in `related` attached, as select_related attaches them. Each column
keeps its field's type, so values are converted exactly as a query of the model would convert them.

Only for lists that stay short (a few rows each): every list is read whole, or its first `limit` rows."""

from dataclasses import dataclass

from django.db import connections
from django.db.models import F, Model, QuerySet, Value, Window
from django.db.models.functions import RowNumber


@dataclass(frozen=True)
class ShortList:
    queryset: QuerySet  # the rows, filtered; its ordering (or the model's) is the list's order
    related: tuple[str, ...] = ()  # forward relations read with each row, as for select_related: "issue__category"
    limit: int | None = None  # at most this many rows, the first in the list's order (None: the whole list)


@dataclass(frozen=True)
class _Node:
    path: str  # "" for the list's own model, else the relation's path
    field: object  # the relation (a ForeignKey or OneToOneField) from the parent node; None for the list's model
    model: type[Model]
    fields: tuple  # the concrete fields read

    def expression(self, field):
        return F(f"{self.path}__{field.attname}" if self.path else field.attname)


def _nodes(model, related) -> list[_Node]:
    paths = {""}
    for path in related:
        parts = path.split("__")
        paths.update("__".join(parts[: n + 1]) for n in range(len(parts)))
    nodes = []
    for path in sorted(paths, key=lambda p: (p.count("__") + bool(p), p)):  # parents before their relations
        node_model, field = model, None
        for part in path.split("__") if path else ():
            field = node_model._meta.get_field(part)
            node_model = field.related_model
        nodes.append(_Node(path, field, node_model, tuple(node_model._meta.concrete_fields)))
    return nodes


def _ordering(queryset) -> list:
    return list(queryset.query.order_by or queryset.model._meta.ordering or ["pk"])


def _null(field, connection) -> str:
    return f"CAST(NULL AS {field.cast_db_type(connection)})"


def read_short_lists(**lists: ShortList) -> dict[str, list]:
    """Each list's rows, in its order, from one query (see the module docstring).

    Each list's own SELECT is built by the ORM with only its own columns (its number, its row numbers, its
    fields); the UNION ALL then pads each one with typed NULLs for the other lists' columns as plain SQL. Built
    by the ORM as one queryset, every list would carry an expression for every column of every list, and
    compiling them cost more than all the rest of a case's page."""
    names = list(lists)
    database = lists[names[0]].queryset.db
    connection = connections[database]
    layouts = [_nodes(lists[name].queryset.model, lists[name].related) for name in names]
    columns = [[(node, field) for node in nodes for field in node.fields] for nodes in layouts]
    nulls = [", ".join(_null(field, connection) for _, field in own) for own in columns]
    branches, params, compilers = [], [], []
    for index, name in enumerate(names):
        queryset = lists[name].queryset
        select = {"c0": Value(index), "c1": Window(RowNumber(), order_by=_ordering(queryset))}
        select.update({f"c{n + 2}": node.expression(field) for n, (node, field) in enumerate(columns[index])})
        compiler = queryset.order_by().values(**select).query.get_compiler(using=database)
        sql, branch_params = compiler.as_sql()
        own = ", ".join(f"s.c{n + 2}" for n in range(len(columns[index])))
        padded = ", ".join(part for part in ("s.c0, s.c1", *nulls[:index], own, *nulls[index + 1 :]) if part)
        limit = lists[name].limit
        branches.append(f"SELECT {padded} FROM ({sql}) s" + (" WHERE s.c1 <= %s" if limit is not None else ""))
        params.extend(branch_params)
        if limit is not None:
            params.append(limit)
        compilers.append((compiler, compiler.get_converters([column for column, _, _ in compiler.select])))
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    found: dict[str, list] = {name: [] for name in names}
    starts = [2 + sum(len(c) for c in columns[:index]) for index in range(len(names))]
    for wide in rows:
        index = wide[0]
        compiler, converters = compilers[index]
        own_row = (index, wide[1], *wide[starts[index] : starts[index] + len(columns[index])])
        row = next(compiler.apply_converters([own_row], converters)) if converters else own_row
        position, values = row[1], iter(row[2:])
        built: dict[str, Model | None] = {}
        for node in layouts[index]:
            chunk = [next(values) for _ in node.fields]
            pk = chunk[node.fields.index(node.model._meta.pk)]
            instance = None if pk is None else node.model.from_db(database, [f.attname for f in node.fields], chunk)
            built[node.path] = instance
            if node.path:
                parent = built[node.path.rpartition("__")[0]]
                if parent is not None:
                    node.field.set_cached_value(parent, instance)
        found[names[index]].append((position, built[""]))
    return {name: [instance for _, instance in sorted(rows_of, key=lambda r: r[0])] for name, rows_of in found.items()}
