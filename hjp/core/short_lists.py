"""Several short lists, of different models, read in one query.

A page that shows a handful of short lists (a case's issues, deadlines, evidence requests, ...) would spend a
query on each. `read_short_lists` reads them all with one UNION ALL of rows numbered in each list's order by
ROW_NUMBER(), which come back as model instances with the forward relations named in `related` attached, as
select_related attaches them. The union's columns are shared out by type: a list's third timestamp column is the
union's third timestamp column, NULL (cast to that type) in the rows of lists with fewer; so each column keeps
its field's type, values are converted exactly as a query of the model would convert them, and the row is as
wide as the most of each type any one list has, not as all the lists' columns together (PostgreSQL's planning
grows with the columns of every branch).

Only for lists that stay short (a few rows each): every list is read whole, or its first `limit` rows."""

import re
from collections import Counter
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


def _column_type(field, connection) -> str:
    """The type of the union's column that holds this field: its database type, without its size ("varchar",
    not "varchar(100)"; a union of the two is a varchar). The declared type, not the type a CAST names: on
    SQLite both dates and datetimes CAST as TEXT, and a union's column converts every value by the declared
    type of its first SELECT's (a date read as a datetime)."""
    return re.sub(r"\(.*?\)", "", field.db_type(connection) or field.cast_db_type(connection)).strip()


@dataclass(frozen=True)
class _Union:
    """What one set of lists' query is, whatever rows it is for: its SQL, and how to read its rows back."""

    sql: str
    layouts: list[list[_Node]]
    places: list[list[int]]  # where each list's columns are in the union's row
    converters: list[dict]  # each list's, as the ORM's compiler gives them (no query kept: it holds its values)


# The queries built, by the shape of their lists (see `read_short_lists`): the same lists for another case are the same SQL with
# other parameters, so a page builds its query once a process rather than on every request, where resolving and
# compiling a few hundred columns cost more than running it. Bounded; the keys hold SQL with placeholders only.
_UNIONS: dict[tuple, _Union] = {}
_UNIONS_KEPT = 256


def _reusable(queryset) -> bool:
    """Whether the list's parameters are all in its WHERE and joins: ordered by fields only, no annotations."""
    query = queryset.query
    plain = not (query.annotations or query.extra or query.extra_order_by or query.combinator)
    return plain and all(isinstance(term, str) for term in _ordering(queryset))


def _build_union(names, lists, database, connection) -> tuple[_Union, list]:
    """The union's SQL for these lists, built by the ORM, and its parameters."""
    layouts = [_nodes(lists[name].queryset.model, lists[name].related) for name in names]
    columns = [[(node, field) for node in nodes for field in node.fields] for nodes in layouts]
    types = [[_column_type(field, connection) for _, field in own] for own in columns]
    widths: dict[str, int] = {}  # the union's columns of each type: as many as the most any list has
    for own in types:
        for column_type, count in Counter(own).items():
            widths[column_type] = max(widths.get(column_type, 0), count)
    slot_types = [column_type for column_type, width in widths.items() for _ in range(width)]
    firsts = {column_type: 2 + slot_types.index(column_type) for column_type in widths}  # after c0 and c1
    places = []
    for own in types:
        taken = Counter()
        list_places = []
        for column_type in own:
            list_places.append(firsts[column_type] + taken[column_type])
            taken[column_type] += 1
        places.append(list_places)
    branches, params, converters = [], [], []
    for index, name in enumerate(names):
        queryset = lists[name].queryset
        select = {"c0": Value(index), "c1": Window(RowNumber(), order_by=_ordering(queryset))}
        select.update({f"c{n + 2}": node.expression(field) for n, (node, field) in enumerate(columns[index])})
        compiler = queryset.order_by().values(**select).query.get_compiler(using=database)
        sql, branch_params = compiler.as_sql()
        row = ["s.c0", "s.c1", *(f"CAST(NULL AS {t})" for t in slot_types)]
        for n, place in enumerate(places[index]):
            row[place] = f"s.c{n + 2}"
        padded = ", ".join(row)
        limit = lists[name].limit
        branches.append(f"SELECT {padded} FROM ({sql}) s" + (" WHERE s.c1 <= %s" if limit is not None else ""))
        params.extend(branch_params)
        if limit is not None:
            params.append(limit)
        converters.append(compiler.get_converters([column for column, _, _ in compiler.select]))
    return _Union(" UNION ALL ".join(branches), layouts, places, converters), params


def read_short_lists(**lists: ShortList) -> dict[str, list]:
    """Each list's rows, in its order, from one query (see the module docstring).

    Each list's own SELECT is built by the ORM with only its own columns (its number, its row numbers, its
    fields); the UNION ALL then places them in the union's columns of their types, with typed NULLs in the rest,
    as plain SQL. Built
    by the ORM as one queryset, every list would carry an expression for every column of every list, and
    compiling them cost more than all the rest of a case's page.

    The union is built once for each shape of lists (`_UNIONS`): each list's own query, compiled as it is
    (cheap: its model's columns), names the shape and gives the parameters. That holds only where a list's
    parameters are all in its WHERE (and joins), which come in the same order in both: lists ordered by fields
    (no expression, whose parameters the union's window would put first) with no annotations (`_reusable`);
    the union's parameters must then be exactly each list's number, its own query's parameters and its limit,
    or it is not kept. Other lists' unions are built for each read."""
    names = list(lists)
    database = lists[names[0]].queryset.db
    connection = connections[database]
    union = shape = None
    if all(_reusable(lists[name].queryset) for name in names):
        shape, params = [database], []
        for index, name in enumerate(names):
            short_list = lists[name]
            sql, own = short_list.queryset.query.get_compiler(using=database).as_sql()
            shape.append((name, short_list.queryset.model, short_list.related, short_list.limit is None, sql))
            params.extend((index, *own) if short_list.limit is None else (index, *own, short_list.limit))
        shape = tuple(shape)
        union = _UNIONS.get(shape)
    if union is None:
        union, built_params = _build_union(names, lists, database, connection)
        if shape is not None and list(built_params) == params:
            if len(_UNIONS) >= _UNIONS_KEPT:
                _UNIONS.clear()
            _UNIONS[shape] = union
        params = built_params
    layouts = union.layouts
    with connection.cursor() as cursor:
        cursor.execute(union.sql, params)
        rows = cursor.fetchall()
    found: dict[str, list] = {name: [] for name in names}
    for wide in rows:
        index = wide[0]
        row = [index, wide[1], *(wide[place] for place in union.places[index])]
        for position, (functions, expression) in union.converters[index].items():
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
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
