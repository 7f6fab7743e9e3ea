"""HL7 FHIR R4 under /fhir/: thin views over `api.fhir`'s reading, mapping and moving, and the apps' services.

Every answer is application/fhir+json, every error an OperationOutcome (never Django's HTML pages): a refused
token 401, a missing scope 403, a resource the client may not see 404 (as for one that does not exist), a bad
request 400, a Bundle that breaks the form's rules 422, a refused move 409, too large a Bundle 413, too many
requests 429."""

import json
import logging
from urllib.parse import urlencode

from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import idempotency
from api.fhir import capability, codes, extensions, mapping, moves, queries, redirect, subscriptions
from api.fhir.outcome import FhirError, Issue, operation_outcome
from api.fhir.submission import read_submission
from api.models import READ_REFERRALS, WRITE_CASES, WRITE_REFERRALS
from api.permissions import token_scopes
from api.views import ClientView
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from outcomes.selectors.case import issues_with_counted_outcomes
from referrals import services as referral_services
from referrals.models import ReferralStatus

logger = logging.getLogger(__name__)

# A referral Bundle is a few kilobytes; anything near this is not one.
MAX_BODY_BYTES = 256 * 1024
FHIR_JSON = "application/fhir+json"
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
}


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The request is larger than {MAX_BODY_BYTES // 1024} KiB: a referral Bundle is a few KiB."


class FhirJsonRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirJsonParser(BaseParser):
    """JSON (application/fhir+json, or plain application/json) of at most MAX_BODY_BYTES."""

    media_type = FHIR_JSON

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge()
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise exceptions.ParseError(f"The body is not JSON: {error}") from None


class PlainJsonParser(FhirJsonParser):
    media_type = "application/json"


class JsonPatchParser(FhirJsonParser):
    media_type = "application/json-patch+json"


class FhirNegotiation(DefaultContentNegotiation):
    """FHIR clients name the version in the Accept header (application/fhir+json; fhirVersion=4.0): read the media
    type without its parameters (but its weight), as there is one version here."""

    def get_accept_list(self, request):
        return [
            ";".join([part.split(";")[0].strip(), *(p for p in part.split(";")[1:] if p.strip().startswith("q="))])
            for part in super().get_accept_list(request)
        ]


class FhirView(ClientView, APIView):
    # Described by its CapabilityStatement (/fhir/metadata), not in the REST API's OpenAPI schema.
    schema = None
    renderer_classes = [FhirJsonRenderer, JSONRenderer]
    content_negotiation_class = FhirNegotiation
    parser_classes = [FhirJsonParser, PlainJsonParser, JsonPatchParser]

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise TooLarge()
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, FhirError):
            return Response(operation_outcome(exc.issues), status=exc.status)
        if isinstance(exc, Http404):
            return Response(operation_outcome([Issue("not-found", "No such resource.")]), status=404)
        if isinstance(exc, exceptions.APIException):
            response = super().handle_exception(exc)  # keeps WWW-Authenticate, Retry-After
            code = ISSUE_CODES.get(response.status_code, "processing")
            response.data = operation_outcome([Issue(code, _detail(exc.detail))])
            return response
        logger.exception("FHIR request failed")
        return Response(
            operation_outcome([Issue("exception", "Something went wrong on the server: nothing was saved.")]),
            status=500,
        )


def _detail(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_detail(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_detail(value) for value in detail)
    return str(detail)


def _task(referral) -> dict:
    """The Task, with what the case achieved as its output once it closed, if consent scope 3 allows it to be
    told (as the referrer's outcome page)."""
    case = getattr(referral, "case", None)
    outputs = None
    if case is not None and referral.status == ReferralStatus.CLOSED and referral.consent.allows_outcome_feedback:
        outputs = mapping.outcome_outputs(issues_with_counted_outcomes(case=case))
    return mapping.task_resource(referral, outputs=outputs)


def _audit_read(request, referral, kind: str) -> None:
    audit_record(actor=request.user, action=AuditEvent.Action.VIEW, obj=referral, summary=f"FHIR {kind}")


class Metadata(FhirView):
    """GET /fhir/metadata: what this server does (public, as FHIR expects)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(capability.capability_statement(published=timezone.localdate().isoformat()))


class CodeSystemRead(FhirView):
    """GET /fhir/CodeSystem/<name>: one of hjp's CodeSystems at its canonical URL (public)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, name: str):
        if name not in codes.CODE_SYSTEMS:
            raise Http404
        return Response(codes.code_system_resource(name))


class StructureDefinitionRead(FhirView):
    """GET /fhir/StructureDefinition/<name>: one of hjp's extensions at its canonical URL (public)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, name: str):
        if name not in extensions.EXTENSIONS:
            raise Http404
        return Response(extensions.structure_definition_resource(name))


class Transaction(FhirView):
    """POST /fhir/: a transaction Bundle (Patient, Consent, ServiceRequest, Task) submits a referral, through the
    web form's rules and service. Idempotency-Key, or the ServiceRequest entry's ifNoneExist, makes a retried
    Bundle answer what the first did, without a second referral."""

    required_scopes = {"POST": WRITE_REFERRALS}

    def post(self, request):
        document = request.data
        submission = read_submission(document, user=request.user)
        key = request.headers.get(idempotency.HEADER)
        if key is None and not submission.if_none_exist:
            return self._answer(*self._create(submission))
        try:
            if key is not None:
                key = idempotency.clean_key(key)
                digest = idempotency.request_hash(method="POST", path=request.path, body=document)
            else:
                # Conditional create: the same identifier is the same referral, whatever else the Bundle says.
                key = f"If-None-Exist {submission.if_none_exist}"[: idempotency.MAX_KEY_LENGTH]
                digest = idempotency.request_hash(method="POST", path=request.path, body=key)
            result = idempotency.idempotent_create(
                client=request.user.api_client,
                key=key,
                digest=digest,
                create=lambda: self._create(submission),
            )
        except DomainError as refused:
            raise FhirError.one(422, "business-rule", refused.message) from None
        response = self._answer(result.status_code, result.body)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, submission) -> tuple[int, dict]:
        try:
            referral = referral_services.referral_save(
                actor=self.request.user,
                patient_data=submission.patient_data,
                consent_data=submission.consent_data,
                referral_data=submission.referral_data,
                submit=True,
                practitioner=submission.practitioner,
            )
        except DomainError as refused:
            raise FhirError.one(422, "business-rule", refused.message, "Bundle") from None
        locations = {
            "Patient": f"Patient/{referral.patient_id}",
            "Consent": f"Consent/{referral.consent.pk}",
            "ServiceRequest": f"ServiceRequest/{referral.pk}",
            "Task": f"Task/{referral.pk}",
        }
        return 200, {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {
                    "response": {
                        "status": "201 Created",
                        "location": locations[kind],
                        "lastModified": mapping.instant(referral.updated_at),
                    }
                    if kind in locations
                    else {
                        "status": "200 OK",
                        # hjp keeps who referred on the referral, not as a resource of its own: say where.
                        "outcome": operation_outcome(
                            [
                                Issue(
                                    "informational",
                                    f"Kept as the requester of ServiceRequest/{referral.pk}.",
                                    severity="information",
                                )
                            ]
                        ),
                    }
                }
                for kind in submission.order
            ],
        }

    def _answer(self, status_code: int, body: dict) -> Response:
        return Response(body, status=status_code)


class TaskSearch(FhirView):
    """GET /fhir/Task?owner=&status=&focus=&_lastUpdated=&_count=: a searchset Bundle, a page at a time."""

    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request):
        page = queries.task_search(request.user, request.query_params)
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.LIST,
            object_type="referrals.referral",
            summary="FHIR Task search",
        )
        base = codes.base_url()
        query = urlencode(page.used)
        links = [{"relation": "self", "url": f"{base}/Task?{query}"}]
        if page.next_cursor:
            links.append(
                {"relation": "next", "url": f"{base}/Task?{urlencode([*page.used, ('_cursor', page.next_cursor)])}"}
            )
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "link": links,
                "entry": [
                    {
                        "fullUrl": f"{base}/Task/{referral.pk}",
                        "resource": mapping.task_resource(referral),
                        "search": {"mode": "match"},
                    }
                    for referral in page.rows
                ],
            }
        )


class MovesTasks(BasePermission):
    """A PUT or PATCH of a Task needs a scope that moves referrals: cases:write (the advice side's moves) or
    referrals:write (the referrer's: cancel, entered in error); which one the move needs is checked with it."""

    message = "This token holds no scope that moves a Task: cases:write or referrals:write."

    def has_permission(self, request, view):
        return request.method not in ("PUT", "PATCH") or bool(token_scopes(request) & MOVE_SCOPES)


# The referrer's moves need referrals:write; every other move of a Task, cases:write.
REFERRER_MOVES = frozenset({"cancelled", "entered-in-error"})
MOVE_SCOPES = frozenset({WRITE_CASES, WRITE_REFERRALS})


class TaskInstance(FhirView):
    """GET /fhir/Task/<id>; PUT or PATCH (JSON Patch) to move it: cases:write for the advice side's moves,
    referrals:write for the referrer's (cancelled, entered in error)."""

    required_scopes = {"GET": READ_REFERRALS, "PUT": READ_REFERRALS, "PATCH": READ_REFERRALS}
    permission_classes = [*APIView.permission_classes, MovesTasks]

    def get(self, request, pk: str):
        referral = queries.referral_for(request.user, pk)
        _audit_read(request, referral, "Task")
        return Response(_task(referral))

    def put(self, request, pk: str):
        referral = queries.referral_for(request.user, pk)
        if not isinstance(request.data, dict):
            raise FhirError.one(400, "structure", "Send the Task as a JSON object.", "Task")
        return self._move(request, referral, request.data)

    def patch(self, request, pk: str):
        referral = queries.referral_for(request.user, pk)
        return self._move(request, referral, moves.patched(mapping.task_resource(referral), request.data))

    def _move(self, request, referral, wanted: dict) -> Response:
        moves.check_well_formed(wanted)
        status = wanted.get("status")
        needed = WRITE_REFERRALS if status in REFERRER_MOVES else WRITE_CASES
        if needed not in token_scopes(request):
            raise FhirError.one(403, "forbidden", f"This move needs a token with the scope {needed}.", "Task.status")
        moves.task_move(referral=referral, wanted=wanted, actor=request.user)
        referral = queries.referral_for(request.user, referral.pk)
        _audit_read(request, referral, "Task")
        return Response(_task(referral))


class TaskRedirect(FhirView):
    """POST /fhir/Task/<id>/$redirect (cases:write): triage's redirect, with the page's form and service (a
    provider of the service's directory, a note for the referrer, the patient's consent to share with it)."""

    required_scopes = {"POST": WRITE_CASES}

    def post(self, request, pk: str):
        referral = queries.referral_for(request.user, pk)
        redirect.task_redirect(referral=referral, parameters=request.data, actor=request.user)
        referral = queries.referral_for(request.user, referral.pk)
        _audit_read(request, referral, "Task")
        return Response(_task(referral))


class ServiceRequestRead(FhirView):
    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request, pk: str):
        referral = queries.referral_for(request.user, pk, as_request=True)
        _audit_read(request, referral, "ServiceRequest")
        return Response(mapping.service_request_resource(referral))


class ConsentRead(FhirView):
    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request, pk: str):
        referral = queries.referral_of_consent(request.user, pk)
        _audit_read(request, referral, "Consent")
        return Response(mapping.consent_resource(referral))


class PatientRead(FhirView):
    """A patient whose details were removed (consent withdrawn, or after the retention period) is still read,
    redacted: the client keeps following the referral's Task, and learns nothing more about the person."""

    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request, pk: str):
        referral = queries.referral_of_patient(request.user, pk)
        _audit_read(request, referral, "Patient")
        return Response(mapping.patient_resource(referral.patient))


class OrganizationRead(FhirView):
    """GET /fhir/Organization/<id>: an organisation the client may see (its own, its partnerships', those on the
    referrals it may see), as Task.owner, Task.requester and ServiceRequest.performer name them."""

    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request, pk: str):
        organisation = queries.organisation_for(request.user, request.user.api_client.organisation_id, pk)
        return Response(mapping.organisation_resource(organisation))


class OrganizationSearch(FhirView):
    """GET /fhir/Organization?identifier=<ODS code>: the organisations the client may see, found by ODS code."""

    required_scopes = {"GET": READ_REFERRALS}

    def get(self, request):
        rows, used = queries.organisation_search(request.user, request.user.api_client.organisation_id, request.GET)
        base = codes.base_url()
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(rows),
            "link": [{"relation": "self", "url": f"{base}/Organization?{urlencode(used)}"}],
        }
        if rows:  # FHIR allows no empty list
            bundle["entry"] = [
                {
                    "fullUrl": f"{base}/Organization/{organisation.pk}",
                    "resource": mapping.organisation_resource(organisation),
                    "search": {"mode": "match"},
                }
                for organisation in rows
            ]
        return Response(bundle)


class SubscriptionCollection(FhirView):
    """POST /fhir/Subscription registers a subscription to the changes of the Tasks the client may see (the answer
    carries its signing secret, once); GET /fhir/Subscription lists the client's own."""

    required_scopes = {"GET": READ_REFERRALS, "POST": READ_REFERRALS}

    def post(self, request):
        wanted = subscriptions.read_subscription(request.data)
        subscription, secret = subscriptions.subscription_create(
            client=request.user.api_client, actor=request.user, wanted=wanted
        )
        response = Response(subscriptions.subscription_resource(subscription, secret=secret), status=201)
        response["Location"] = f"{codes.base_url()}/Subscription/{subscription.pk}"
        return response

    def get(self, request):
        base = codes.base_url()
        own = request.user.api_client.subscriptions.order_by("pk")
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(own),
                "entry": [
                    {
                        "fullUrl": f"{base}/Subscription/{subscription.pk}",
                        "resource": subscriptions.subscription_resource(subscription),
                        "search": {"mode": "match"},
                    }
                    for subscription in own
                ],
            }
        )


class SubscriptionInstance(FhirView):
    """GET /fhir/Subscription/<id>; DELETE ends it (status off). Only the client's own: another's is 404."""

    required_scopes = {"GET": READ_REFERRALS, "DELETE": READ_REFERRALS}

    def get(self, request, pk: str):
        subscription = subscriptions.subscription_for(request.user.api_client, pk)
        return Response(subscriptions.subscription_resource(subscription))

    def delete(self, request, pk: str):
        subscription = subscriptions.subscription_for(request.user.api_client, pk)
        subscriptions.subscription_off(subscription=subscription, actor=request.user)
        return Response(status=204)


class Unknown(FhirView):
    """Anything else under /fhir/: an OperationOutcome, never Django's HTML 404."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, rest: str = ""):
        raise FhirError.one(404, "not-supported", "This server has no such interaction: see /fhir/metadata.")

    post = put = patch = delete = get
