"""A handover to a provider outside hjp that has a FHIR server (casework.models.AdviceProvider.fhir_base_url):
hjp POSTs a transaction Bundle (Patient, Consent, ServiceRequest, and a Task with status `requested`) to the
provider's base URL, signed like hjp's webhooks (`Hjp-Signature: sha256=<hex HMAC-SHA256 of the body under the
provider's secret>`), and keeps the location of the Task the provider made.

At least once: casework makes one PartnerSend row per handover (its unique key, `handover-<id>`) and tells api
(`casework.signals.partner_send_queued`); after the commit a Celery task sends it, locking the row while it
does, and retries with backoff when the provider or the network fails for a while (5xx, 429, timeouts). A send
may therefore arrive twice; it is the same Bundle each time: its `identifier` is the key (also in the
`Hjp-Event-Id` header), every entry's fullUrl is a UUID made from the key, and the Task and ServiceRequest are
created `ifNoneExist` their identifier, so the provider's server makes them once. A withdrawal of consent
before the send stops it: nothing leaves hjp.

What is sent is what the patient agreed to share with this provider: the referral (its problems, urgency, key
date and the referrer's description), the patient's details, and the Consent with its three scopes as
provisions (permit or deny), so the provider sees whether outcomes may be reported back to the referrer.
Medical evidence never leaves hjp this way and the Task carries no output. The outgoing request follows hjp's
one rule (`hjp.core.safe_http`): public addresses only (loopback where WEBHOOK_ALLOW_HTTP_LOOPBACK), no
redirect followed."""

import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.fhir import codes, mapping
from casework.models import PartnerSend
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core import safe_http
from hjp.notifications.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, endpoint_problem, signature
from referrals.models import Referral

S = PartnerSend.Status
MAX_ANSWER_BYTES = 64 * 1024
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class PartnerUnavailable(Exception):
    """The provider or the network failed for a while: the send is tried again later."""


def _urn(key: str, kind: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'hjp:{key}:{kind}')}"


def _relink(value, links: dict[str, str]):
    """Every reference to one of the Bundle's own resources ("Patient/12") as its entry's fullUrl."""
    if isinstance(value, dict):
        return {
            k: links.get(v, v) if k == "reference" and isinstance(v, str) else _relink(v, links)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_relink(v, links) for v in value]
    return value


def _search(identifier: dict) -> str:
    return f"identifier={identifier['system']}|{identifier['value']}"


def handover_bundle(send: PartnerSend, referral: Referral) -> dict:
    """The transaction Bundle for this send (the same for every attempt). `referral` is loaded with its consent,
    patient, referrer, organisations and categories."""
    handover = send.handover
    handover_identifier = {"system": codes.identifier_system("handover"), "value": send.key}
    patient = mapping.patient_resource(referral.patient)
    consent = mapping.consent_resource(referral)
    service_request = mapping.service_request_resource(referral)
    service_request.update(
        status="active",
        performer=[{"display": send.provider.name}],
        identifier=[mapping.referral_identifier(referral), handover_identifier],
    )
    task = {
        "resourceType": "Task",
        "identifier": [handover_identifier],
        "basedOn": [{"reference": f"ServiceRequest/{referral.pk}"}],
        "status": "requested",
        "intent": "order",
        "priority": referral.urgency,
        "code": {"coding": [{"system": codes.TASK_CODE, "code": "fulfill"}]},
        "focus": {"reference": f"ServiceRequest/{referral.pk}"},
        "for": {"reference": f"Patient/{referral.patient_id}"},
        "authoredOn": mapping.instant(handover.made_at),
        "requester": mapping.organisation_reference(handover.from_organisation),
        "owner": {"display": send.provider.name},
        "note": [{"text": f"Handed over by {handover.made_by.get_full_name() or handover.made_by}."}],
    }
    resources = [("Patient", patient), ("Consent", consent), ("ServiceRequest", service_request), ("Task", task)]
    links = {
        "Patient": _urn(send.key, "Patient"),
        "Consent": _urn(send.key, "Consent"),
        "ServiceRequest": _urn(send.key, "ServiceRequest"),
        "Task": _urn(send.key, "Task"),
    }
    own = {
        f"Patient/{referral.patient_id}": links["Patient"],
        f"Consent/{referral.consent.pk}": links["Consent"],
        f"ServiceRequest/{referral.pk}": links["ServiceRequest"],
    }
    entries = []
    for kind, resource in resources:
        resource = _relink({k: v for k, v in resource.items() if k not in ("id", "meta")}, own)
        request = {"method": "POST", "url": kind}
        if kind in ("ServiceRequest", "Task"):
            request["ifNoneExist"] = _search(handover_identifier)
        entries.append({"fullUrl": links[kind], "resource": resource, "request": request})
    return {
        "resourceType": "Bundle",
        "identifier": handover_identifier,
        "type": "transaction",
        "timestamp": mapping.instant(send.created_at),
        "entry": entries,
    }


def _referral(send: PartnerSend) -> Referral:
    return (
        Referral.objects.select_related(
            "consent", "patient", "referrer", "referring_organisation", "advice_organisation"
        )
        .prefetch_related("categories")
        .get(pk=send.handover.referral_id)
    )


def _task_location(body: bytes) -> str:
    """The location of the Task in the provider's transaction-response Bundle ("" when it names none)."""
    try:
        answer = json.loads(body)
        locations = [entry["response"]["location"] for entry in answer.get("entry", []) if "response" in entry]
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""
    return next((str(location)[:300] for location in locations if "Task/" in str(location)), "")


def _fail(send: PartnerSend, error: str, *, status: str) -> None:
    send.status, send.last_error = status, error[:300]
    send.save(update_fields=["status", "last_error", "attempts", "last_attempt_at"])


def partner_send(*, send_id: int, last_try: bool = False) -> PartnerSend:
    """Send the handover once, unless it was sent or stopped already. Raises PartnerUnavailable for a failure
    worth retrying (the row says "failed, retrying"), unless `last_try` (then "failed, not retried")."""
    with transaction.atomic():
        send = (
            # The handover too: a withdrawal of consent (which stops the handover) waits for this attempt, or
            # this attempt sees it.
            PartnerSend.objects.select_for_update(of=("self", "handover"))
            .select_related(
                "handover__from_organisation", "handover__made_by", "handover__referral__consent", "provider"
            )
            .get(pk=send_id)
        )
        if send.status in (S.SENT, S.STOPPED, S.FAILED):
            return send
        handover = send.handover
        if handover.referral.consent.is_withdrawn or handover.state == handover.State.STOPPED:
            send.status = S.STOPPED
            send.save(update_fields=["status"])
            audit_record(actor=None, action=AuditEvent.Action.UPDATE, obj=send, summary="not sent: consent withdrawn")
            return send
        send.attempts += 1
        send.last_attempt_at = timezone.now()
        problem = endpoint_problem(send.url)
        if problem:
            _fail(send, problem.replace("The endpoint", "The FHIR base URL"), status=S.FAILED)
            return send
        body = json.dumps(handover_bundle(send, _referral(send)), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            "User-Agent": "hjp-partners/1",
            SIGNATURE_HEADER: signature(send.provider.fhir_signing_secret, body),
            EVENT_ID_HEADER: send.key,
        }
        try:
            answer = safe_http.request(
                "POST",
                send.url.rstrip("/") + "/",
                allow_private=settings.WEBHOOK_ALLOW_HTTP_LOOPBACK,
                timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS,
                body=body,
                headers=headers,
                max_bytes=MAX_ANSWER_BYTES,
            )
        except safe_http.PrivateAddress as error:
            _fail(send, f"{error} Not sent.", status=S.FAILED)
            return send
        except (safe_http.UnsafeAddress, safe_http.RequestFailed) as error:  # unresolvable may be for a while
            error_text, transient = str(error), True
        else:
            if 200 <= answer.status < 300:
                send.status, send.sent_at, send.last_error = S.SENT, timezone.now(), ""
                send.partner_task = _task_location(answer.body)
                send.save(
                    update_fields=["status", "sent_at", "last_error", "partner_task", "attempts", "last_attempt_at"]
                )
                audit_record(
                    actor=None, action=AuditEvent.Action.UPDATE, obj=send, summary=f"sent by FHIR to {send.url}"
                )
                return send
            error_text = f"HTTP {answer.status} {answer.reason}".strip()
            transient = answer.status in TRANSIENT_STATUSES
        _fail(send, error_text, status=S.RETRYING if transient and not last_try else S.FAILED)
    if transient and not last_try:
        raise PartnerUnavailable(error_text)
    return send


def enqueue_partner_send(sender, *, send_id: int, **kwargs) -> None:
    """`casework.signals.partner_send_queued`'s receiver: send after the commit, never before. A failure to
    enqueue (the broker down) is logged, not raised: the sweep sends it later (`partner_sends_sweep`)."""
    from api.tasks import send_to_partner

    transaction.on_commit(lambda: send_to_partner.delay(send_id), robust=True)


def partner_sends_sweep() -> int:
    """Enqueue the sends left behind: pending for over 5 minutes (the broker was down when the handover was made),
    or waiting for a retry for over 2 hours (the retry was lost). Sending twice is harmless: each attempt locks
    the row and a sent one is not sent again. Returns how many were enqueued."""
    from api.tasks import send_to_partner

    now = timezone.now()
    left = PartnerSend.objects.filter(
        Q(status=S.PENDING, created_at__lt=now - timedelta(minutes=5))
        | Q(status=S.RETRYING, last_attempt_at__lt=now - timedelta(hours=2))
    ).values_list("pk", flat=True)
    ids = list(left)
    for send_id in ids:
        send_to_partner.delay(send_id)
    return len(ids)
