"""The REST API for systems, version 1: thin views over the apps' selectors and services, as the pages are, with
the pages' forms validating what is sent (api.v1.forms_bridge)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from api.idempotency import HEADER as IDEMPOTENCY_HEADER
from api.idempotency import clean_key, idempotent_create, request_hash
from api.models import READ_REFERRALS, WRITE_CASES, WRITE_REFERRALS
from api.pagination import KeysetPagination
from api.v1 import inputs
from api.v1 import serializers as api_serializers
from api.v1.errors import ErrorSerializer, InvalidContent, exception_handler
from api.v1.forms_bridge import form_data, form_errors
from api.views import ClientView
from casework import forms as casework_forms
from casework import services as casework_services
from casework.permissions import case_workers, get_case_for_user, get_triage_referral_for_user
from hjp.accounts.models import normalise_email
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from outcomes import services as outcome_services
from outcomes.forms import CaseCloseForm
from referrals import selectors
from referrals import services as referral_services
from referrals.forms import ConsentForm, PatientForm, ReferralForm
from referrals.models import ReferralStatus

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="No valid bearer token, or the client is revoked or expired."),
    403: OpenApiResponse(ErrorSerializer, description="The token does not hold the scope this request needs."),
    429: OpenApiResponse(ErrorSerializer, description="Over the client's rate limit: wait for Retry-After seconds."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such referral, or not one this client may see.")}
BAD_INPUT = {400: OpenApiResponse(ErrorSerializer, description="What was sent is wrong: `errors` names each field.")}
REFUSED = {409: OpenApiResponse(ErrorSerializer, description="Refused, with the reason (e.g. a move not allowed now).")}


class V1View(ClientView, GenericAPIView):
    def get_exception_handler(self):
        return exception_handler

    def referral_response(self, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The referral as this client may see it now (an audited read, as the page's)."""
        user = self.request.user
        referral = selectors.referral_detail(user=user, pk=pk)
        audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=referral, summary="API")
        moves = referral_services.allowed_targets(referral=referral, user=user)
        data = api_serializers.ReferralSerializer(referral, context={"request": self.request, "moves": moves}).data
        return Response(data, status=status_code)


class ReferralListFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    updated_since = serializers.DateTimeField(required=False)


@extend_schema(tags=["referrals"])
class ReferralList(V1View):
    required_scopes = {"GET": READ_REFERRALS, "POST": WRITE_REFERRALS}
    pagination_class = KeysetPagination
    serializer_class = api_serializers.ReferralSummarySerializer

    @extend_schema(
        summary="The referrals the client's organisation may see",
        description="Newest first (by when sent). Poll for changes with `updated_since`; follow `next` for more.",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=ReferralStatus.values),
            OpenApiParameter(
                "updated_since", OpenApiTypes.DATETIME, description="Only referrals changed at or after this time."
            ),
        ],
        responses={200: api_serializers.ReferralSummarySerializer(many=True), **BAD_INPUT, **ERRORS},
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

    @extend_schema(
        summary="Submit a referral",
        description="Validated as the referral form is (NHS number, postcode, consent scope 1, what a submission "
        "needs). With an `Idempotency-Key` header a retried request returns the first response and never makes "
        "a second referral (the same key with a different body: 422).",
        request=inputs.ReferralCreateInput,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="A unique key per referral (a UUID), sent again on every retry of it.",
            )
        ],
        responses={
            201: api_serializers.ReferralSerializer,
            **BAD_INPUT,
            **ERRORS,
            409: OpenApiResponse(ErrorSerializer, description="Refused: e.g. an open referral of the same patient."),
            422: OpenApiResponse(ErrorSerializer, description="This Idempotency-Key was used for another request."),
        },
    )
    def post(self, request):
        body = inputs.ReferralCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        key = clean_key(request.headers.get(IDEMPOTENCY_HEADER))

        made = {}

        def create():
            referral = self._submit(body.validated_data)
            made["response"] = self.referral_response(referral.pk, status_code=status.HTTP_201_CREATED)
            # Only the referral's id is kept for a retry: a replay reads the referral again, as its user may see it
            # now (redacted once consent is withdrawn) and audited, never a stored copy of patient details.
            return status.HTTP_201_CREATED, {"id": referral.pk}

        if key is None:
            create()
            response, replayed = made["response"], False
        else:
            digest = request_hash(method="POST", path=request.path, body=request.data)
            result = idempotent_create(client=request.user.api_client, key=key, digest=digest, create=create)
            replayed = result.replayed
            response = (
                self.referral_response(result.body["id"], status_code=result.status_code)
                if replayed
                else made["response"]
            )
        data = response.data
        response["Location"] = reverse("api_v1:referral_detail", args=[data["id"]])
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _submit(self, body: dict):
        user = self.request.user
        partnerships = selectors.partnerships_for_referrer(user)
        categories = selectors.problem_categories()
        referral_values = dict(body.get("referral", {}))
        if "categories" in referral_values:
            referral_values["categories"] = _category_ids(referral_values["categories"], categories)
        if referral_values.get("partnership") is None and len(partnerships) == 1:
            referral_values["partnership"] = partnerships[0].pk
        patient_form = PatientForm(
            form_data(PatientForm, body.get("patient", {}), prefix="patient"), prefix="patient", submitting=True
        )
        consent_form = ConsentForm(
            form_data(ConsentForm, body.get("consent", {}), prefix="consent"), prefix="consent", submitting=True
        )
        referral_form = ReferralForm(
            form_data(ReferralForm, referral_values, prefix="referral"),
            prefix="referral",
            submitting=True,
            partnerships=partnerships,
            categories=categories,
        )
        errors = {}
        for section, form in (("consent", consent_form), ("patient", patient_form), ("referral", referral_form)):
            if not form.is_valid():
                errors |= form_errors(form, section)
        if errors:
            raise InvalidContent(errors)
        try:
            return referral_services.referral_save(
                actor=user,
                patient_data=patient_form.cleaned_data,
                consent_data=consent_form.cleaned_data,
                referral_data=referral_form.cleaned_data,
                submit=True,
            )
        except referral_services.DuplicateReferralError as refusal:
            raise InvalidContent(
                {"referral.duplicate_reason": [refusal.message]}, status_code=status.HTTP_409_CONFLICT
            ) from None


def _category_ids(codes: list[str], categories) -> list[int]:
    known = {category.code: category.pk for category in categories}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidContent(
            {
                "referral.categories": [
                    f"Unknown category codes: {', '.join(unknown)}. The codes are: {', '.join(known)}."
                ]
            }
        )
    return [known[code] for code in codes]


@extend_schema(tags=["referrals"])
class ReferralDetail(V1View):
    required_scopes = {"GET": READ_REFERRALS}
    serializer_class = api_serializers.ReferralSerializer

    @extend_schema(
        summary="One referral",
        description="With its patient, consent, timeline and the moves this client may make now.",
        responses={200: api_serializers.ReferralSerializer, **NOT_FOUND, **ERRORS},
    )
    def get(self, request, pk: int):
        return self.referral_response(pk)


class ReferralMove(V1View):
    """A move of a referral (and its case) by the advice service, through the same services and transition
    tables as the pages; a move the tables refuse now is 409 with the reason. The referral is looked up first,
    so one the client may not see is 404 whatever was sent."""

    required_scopes = {"POST": WRITE_CASES}
    serializer_class = api_serializers.ReferralSerializer
    input_class = None

    def post(self, request, pk: int):
        target = self.target(pk)
        data = {}
        if self.input_class is not None:
            body = self.input_class(data=request.data)
            body.is_valid(raise_exception=True)
            data = body.validated_data
        self.move(target, data)
        return self.referral_response(pk)

    def target(self, pk: int):
        """A referral sent to the client's advice organisation (404 otherwise)."""
        return get_triage_referral_for_user(self.request.user, pk)

    def move(self, target, data: dict) -> None:
        raise NotImplementedError


class CaseMove(ReferralMove):
    def target(self, pk: int):
        """The case of a referral sent to the client's advice organisation (404 otherwise; 409 without one)."""
        referral = super().target(pk)
        case = getattr(referral, "case", None)
        if case is None:
            raise DomainError("This referral has no case: accept it first.")
        return get_case_for_user(self.request.user, case.pk)


def _bound(form_class, values: dict, **kwargs):
    form = form_class(form_data(form_class, values), **kwargs)
    if not form.is_valid():
        raise InvalidContent(form_errors(form))
    return form


MOVE_RESPONSES = {200: api_serializers.ReferralSerializer, **BAD_INPUT, **NOT_FOUND, **REFUSED, **ERRORS}


@extend_schema(
    tags=["moves"],
    summary="Accept a submitted referral (opens its case, held by the advisor named)",
    description="The case is the named advisor's: a case worker of this advice service, by user id or email "
    "address (400 naming `advisor` otherwise).",
    request=inputs.AcceptInput,
    responses=MOVE_RESPONSES,
)
class ReferralAccept(ReferralMove):
    input_class = inputs.AcceptInput

    def move(self, referral, data):
        casework_services.referral_accept(
            referral=referral, actor=self.request.user, advisor=_case_worker(referral, data["advisor"])
        )


def _case_worker(referral, named: int | str):
    """The case worker of the referral's advice organisation named by user id or email address (400 otherwise)."""
    workers = case_workers(referral.advice_organisation_id)
    by = {"pk": named} if isinstance(named, int) else {"email": normalise_email(named)}
    advisor = workers.filter(**by).first()
    if advisor is None:
        raise InvalidContent(
            {
                "advisor": [
                    f"No advisor or supervisor of {referral.advice_organisation.name} has this "
                    f"{'user id' if isinstance(named, int) else 'email address'}."
                ]
            }
        )
    return advisor


@extend_schema(
    tags=["moves"],
    summary="Decline a submitted referral, with a reason",
    request=inputs.DeclineInput,
    responses=MOVE_RESPONSES,
)
class ReferralDecline(ReferralMove):
    input_class = inputs.DeclineInput

    def move(self, referral, data):
        form = _bound(casework_forms.DeclineForm, data)
        casework_services.referral_decline(
            referral=referral,
            actor=self.request.user,
            reason=form.cleaned_data["reason"],
            explanation=form.cleaned_data["explanation"],
        )


@extend_schema(
    tags=["moves"],
    summary="Record the first contact: the case and referral move to in progress",
    request=inputs.InProgressInput,
    responses=MOVE_RESPONSES,
)
class ReferralInProgress(CaseMove):
    input_class = inputs.InProgressInput

    def move(self, case, data):
        values = {
            "kind": data["kind"],
            "occurred_at": data["first_contact_at"],
            "text": data["text"],
            "first_contact": True,
        }
        form = _bound(casework_forms.NoteForm, values, awaiting_contact=True)
        casework_services.case_note_add(
            case=case,
            actor=self.request.user,
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["text"],
            occurred_at=form.cleaned_data["occurred_at"],
            first_contact=True,
        )


@extend_schema(
    tags=["moves"],
    summary="Close the case (with its outcomes recorded, or a reason there are none)",
    description="With `version` (the referral's `case_version` when the client read it) the close is refused "
    "with 409 and `current_version` if anyone changed the case since, as the page refuses a stale form.",
    request=inputs.CloseInput,
    responses={
        **MOVE_RESPONSES,
        409: OpenApiResponse(
            ErrorSerializer,
            description="Refused, with the reason (e.g. no outcome recorded); or `version` is stale: nothing was "
            "closed, and `current_version` is the case's version now.",
        ),
    },
)
class ReferralClose(CaseMove):
    input_class = inputs.CloseInput

    def move(self, case, data):
        form = _bound(CaseCloseForm, {**data, "version": data.get("version", case.version)})
        outcome_services.case_close_with_outcomes(
            case=case,
            actor=self.request.user,
            version=data.get("version"),  # None: no check, the case is closed as it is when locked
            closure_reason=form.cleaned_data["closure_reason"],
            note=form.cleaned_data["note"],
            no_outcome_reason=form.cleaned_data["no_outcome_reason"],
            no_outcome_note=form.cleaned_data["no_outcome_note"],
        )
