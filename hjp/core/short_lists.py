"""Several short lists, of different models, read in one query.

A page that shows a handful of short lists (a case's issues, deadlines, evidence requests, ...) would spend a
query on each. `read_short_lists` reads them all with one UNION ALL: each list's rows fill their own columns of
one wide row (NULL, cast to the column's type, in every other list's), numbered in the list's order by ROW_NUMBER(), and come back as model
instances with the forward relations named in `related` attached, as select_related attaches them. Each column
keeps its field's type, so values are converted exactly as a query of the model would convert them.

Only for lists that stay short (a few rows each): every list is read whole, with no page."""

from dataclasses import dataclass

from django.db.models import F, Model, QuerySet, Value, Window
from django.db.models.functions import Cast, RowNumber


@dataclass(frozen=True)
class ShortList:
    queryset: QuerySet  # the rows, filtered; its ordering (or the model's) is the list's order
    related: tuple[str, ...] = ()  # forward relations read with each row, as for select_related: "issue__category"


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


def read_short_lists(**lists: ShortList) -> dict[str, list]:
    """Each list's rows, in its order, from one query (see the module docstring)."""
    names = list(lists)
    layouts = [_nodes(lists[name].queryset.model, lists[name].related) for name in names]
    columns = [[(node, field) for node in nodes for field in node.fields] for nodes in layouts]
    branches = []
    for index, name in enumerate(names):
        queryset = lists[name].queryset
        select = [Value(index), Window(RowNumber(), order_by=_ordering(queryset))]
        for other, other_columns in enumerate(columns):
            select += [
                node.expression(field) if other == index else Cast(Value(None), output_field=field)
                for node, field in other_columns
            ]
        branches.append(queryset.order_by().values_list(*select))
    rows = branches[0].union(*branches[1:], all=True).order_by() if len(branches) > 1 else branches[0]
    database = lists[names[0]].queryset.db
    found: dict[str, list] = {name: [] for name in names}
    starts = [2 + sum(len(c) for c in columns[:index]) for index in range(len(names))]
    for row in rows:
        index, position = row[0], row[1]
        values = iter(row[starts[index] : starts[index] + len(columns[index])])
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
