"""The REST API for systems, version 1: thin views over the apps' selectors and services, as the pages are."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.models import READ_REFERRALS
from api.pagination import KeysetPagination
from api.v1 import serializers as api_serializers
from api.views import ClientView
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from referrals import selectors
from referrals import services as referral_services
from referrals.models import ReferralStatus


class ReferralListFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only referrals changed at or after this time (ISO 8601, with a time zone)."
    )


@extend_schema(tags=["referrals"])
class ReferralList(ClientView, GenericAPIView):
    """The referrals the client's organisation may see, newest first (by when sent)."""

    required_scopes = {"GET": READ_REFERRALS}
    pagination_class = KeysetPagination
    serializer_class = api_serializers.ReferralSummarySerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ReferralStatus.values),
            OpenApiParameter("updated_since", OpenApiTypes.DATETIME),
        ]
    )
    def get(self, request):
        filters = ReferralListFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        referrals = selectors.referral_list(user=request.user, status=filters.validated_data.get("status", ""))
        if "updated_since" in filters.validated_data:
            referrals = referrals.filter(updated_at__gte=filters.validated_data["updated_since"])
        page = self.paginate_queryset(referrals)
        audit_record(
            actor=request.user, action=AuditEvent.Action.LIST, object_type="referrals.referral", summary="API list"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(tags=["referrals"])
class ReferralDetail(ClientView, GenericAPIView):
    """One referral the client's organisation may see (404 for one it may not, as for one that does not exist)."""

    required_scopes = {"GET": READ_REFERRALS}
    serializer_class = api_serializers.ReferralSerializer

    def get(self, request, pk: int):
        referral = selectors.referral_detail(user=request.user, pk=pk)
        audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=referral, summary="API")
        moves = referral_services.allowed_targets(referral=referral, user=request.user)
        return Response(self.get_serializer(referral, context={"request": request, "moves": moves}).data)
