"""The API's errors, one shape for all: {"detail": "...", "errors": {"section.field": ["..."]}} (errors only
when the request's content was wrong). A refused action (DomainError: a move the state table does not allow, a
duplicate) is 409 with the message the page would show."""

from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from api.v1.forms_bridge import flatten_errors
from hjp.core.errors import DomainError
from hjp.core.versioning import StaleVersionError

INVALID = "The request was not accepted: correct what `errors` names and send it again."


class InvalidContent(Exception):
    """The request's content was wrong: `errors` by API name, as flatten_errors gives them."""

    def __init__(self, errors: dict[str, list[str]], *, status_code: int = status.HTTP_400_BAD_REQUEST, detail=""):
        super().__init__(detail or INVALID)
        self.errors = errors
        self.status_code = status_code
        self.detail = detail or INVALID


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='What was wrong, by field: "patient.nhs_number", "consent.share_with_advice_service" ...',
    )
    current_version = serializers.IntegerField(
        required=False, help_text="With a stale `version` (409): the record's version now, to read it again at."
    )


def exception_handler(exc, context):
    if isinstance(exc, InvalidContent):
        return Response({"detail": exc.detail, "errors": exc.errors}, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return Response({"detail": INVALID, "errors": flatten_errors(exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response({"detail": f"The body is not valid JSON: {exc.detail}"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IdempotencyKeyReused):
        return Response({"detail": exc.message}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, InvalidIdempotencyKey):
        return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StaleVersionError):
        return Response(
            {"detail": exc.message, "current_version": exc.current.version}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
