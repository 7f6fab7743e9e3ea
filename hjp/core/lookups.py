"""The one way a page fetches an object by its id: from a queryset already narrowed to what the user may see."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404


def get_visible_or_404(queryset: QuerySet, pk, message: str = "Not found."):
    """The object with `pk` in `queryset`, or 404. The queryset is already narrowed to what the user may see
    (`Model.objects.visible_to(user)`), so a missing object and a forbidden one give the same answer; an id
    that is not an id at all (text in an int field) is simply missing too."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404(message) from None
