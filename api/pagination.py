"""Keyset (cursor) pagination for the API's lists, on hjp.core.pagination's opaque, authenticated cursors: the
next page is the rows after the last one shown, by the queryset's own order (whose last key is the id)."""

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from hjp.core.pagination import decode_position, encode_position, keyset_filter

CURSOR = "cursor"


class KeysetPagination(BasePagination):
    page_size = 50

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        keys = list(queryset.query.order_by)
        token = request.query_params.get(CURSOR, "")
        if token:
            position = decode_position(token, keys)
            if position is None or len(position[0]) != len(keys):
                raise ValidationError({CURSOR: ["This cursor is not valid: start again without it."]})
            queryset = queryset.filter(keyset_filter(keys, position[0]))
        rows = list(queryset[: self.page_size + 1])
        self.next_url = None
        if len(rows) > self.page_size:
            rows = rows[: self.page_size]
            last = rows[-1]
            values = [_value(last, key) for key in keys]
            self.next_url = replace_query_param(request.build_absolute_uri(), CURSOR, encode_position(keys, values))
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.next_url, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "The next page, or null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": CURSOR,
                "required": False,
                "in": "query",
                "description": "The position given in the previous page's `next` link.",
                "schema": {"type": "string"},
            }
        ]


def _value(row, key: str):
    value = row
    for part in key.removeprefix("-").split("__"):
        value = getattr(value, part)
    return value
