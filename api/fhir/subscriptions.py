"""Push, not only poll: topic-based Subscriptions as the Subscriptions R5 Backport IG profiles them for R4.

A client registers a Subscription to hjp's one topic, the changes of the Tasks it may see
(`topic_url()`), with a rest-hook channel to its https:// endpoint and a payload of `id-only` or
`full-resource`. Every change of such a Task (its state, its case status, an outcome recorded: the
`referrals.signals.task_changed` signal, sent in the change's own transaction) puts one notification per
subscription in hjp's outbox (hjp.notifications, channel `webhook`), in that same transaction, under a key
unique to the subscription and the change; Celery POSTs it after the commit, signed (HMAC-SHA256 of the body
under the subscription's secret, the `Hjp-Signature` header) and retried with backoff.

The notification is a Bundle of type history (backport-subscription-notification-r4): first a Parameters
(backport-subscription-status-r4) naming the subscription, the topic, the event's number and its focus (the
Task), then, for `full-resource`, the Task as it is when the notification is sent. It is composed at each
attempt, as the client's system account: a client that may no longer see the Task gets nothing (the
notification is cancelled), and once the patient withdrew consent (or their details were removed) it is
id-only whatever the subscription asked for."""

import json
import secrets
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from api.fhir import codes
from api.fhir.outcome import FhirError, Issue
from api.fhir.queries import resource_id_or_404
from api.models import ApiClient, Subscription, SubscriptionNotification
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.notifications.models import Message, MessageKind
from hjp.notifications.services import webhook_queue
from hjp.notifications.webhooks import WebhookRequest, endpoint_problem
from referrals.models import PARTNER_SEES_STATES, Handover, Referral

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"
SUBSCRIPTION_PROFILE = f"{BACKPORT}/backport-subscription"
PAYLOAD_CONTENT = f"{BACKPORT}/backport-payload-content"
STATUS_PROFILE = f"{BACKPORT}/backport-subscription-status-r4"
NOTIFICATION_PROFILE = f"{BACKPORT}/backport-subscription-notification-r4"
FHIR_JSON = "application/fhir+json"
MAX_ACTIVE_PER_CLIENT = 10
SECRET_BYTES = 32


def topic_url() -> str:
    """The canonical URL of hjp's one topic: a change of a Task the client may see."""
    return f"{codes.base_url()}/SubscriptionTopic/task-changed"


def secret_extension_url() -> str:
    return codes.extension_url("subscription-signing-secret")


# --- registering ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    endpoint: str
    content: str
    reason: str
    end: object


def read_subscription(document) -> Wanted:
    """What the client asks for, or FhirError naming each problem."""
    if not isinstance(document, dict) or document.get("resourceType") != "Subscription":
        raise FhirError.one(400, "structure", "Send a Subscription resource.", "Subscription")
    issues = []
    if document.get("criteria") != topic_url():
        issues.append(
            Issue(
                "not-supported",
                f"This server has one topic: set criteria to {topic_url()}.",
                ("Subscription.criteria",),
            )
        )
    channel = document.get("channel")
    if not isinstance(channel, dict):
        raise FhirError(400, [*issues, Issue("required", "Give the channel.", ("Subscription.channel",))])
    if channel.get("type") != "rest-hook":
        issues.append(
            Issue("not-supported", "Only the rest-hook channel is supported.", ("Subscription.channel.type",))
        )
    endpoint = channel.get("endpoint")
    problem = endpoint_problem(endpoint) if isinstance(endpoint, str) and len(endpoint) <= 500 else None
    if not isinstance(endpoint, str) or len(endpoint) > 500:
        problem = "Give the endpoint: an https:// URL of at most 500 characters."
    if problem:
        issues.append(Issue("value", problem, ("Subscription.channel.endpoint",)))
    if channel.get("payload", FHIR_JSON) != FHIR_JSON:
        issues.append(Issue("not-supported", f"The payload is {FHIR_JSON}.", ("Subscription.channel.payload",)))
    content = Subscription.Content.ID_ONLY
    for extension in (channel.get("_payload") or {}).get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == PAYLOAD_CONTENT:
            content = extension.get("valueCode")
    if content not in Subscription.Content.values:
        issues.append(
            Issue(
                "not-supported",
                "The payload content is id-only or full-resource.",
                ("Subscription.channel.payload.extension",),
            )
        )
    end = None
    if document.get("end") is not None:
        end = parse_datetime(str(document["end"]))
        if end is None or timezone.is_naive(end):
            issues.append(Issue("value", "end is an instant with its time zone.", ("Subscription.end",)))
        elif end <= timezone.now():
            issues.append(Issue("value", "end is in the past.", ("Subscription.end",)))
    if issues:
        raise FhirError(422 if all(issue.code != "structure" for issue in issues) else 400, issues)
    return Wanted(endpoint=endpoint, content=content, reason=str(document.get("reason") or "")[:300], end=end)


@transaction.atomic
def subscription_create(*, client: ApiClient, actor, wanted: Wanted) -> tuple[Subscription, str]:
    """Register a subscription of `client`, active at once; returns it with its signing secret (shown once)."""
    ApiClient.objects.select_for_update().get(pk=client.pk)  # one count at a time per client
    if client.subscriptions.filter(status=Subscription.Status.ACTIVE).count() >= MAX_ACTIVE_PER_CLIENT:
        raise FhirError.one(
            422, "business-rule", f"A client has at most {MAX_ACTIVE_PER_CLIENT} active subscriptions: end one first."
        )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    subscription = Subscription(
        client=client,
        endpoint=wanted.endpoint,
        content=wanted.content,
        reason=wanted.reason,
        end=wanted.end,
        secret=secret,
    )
    subscription.full_clean()
    subscription.save()
    audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, obj=subscription, summary=f"FHIR Subscription {subscription.pk}"
    )
    return subscription, secret


@transaction.atomic
def subscription_off(*, subscription: Subscription, actor) -> Subscription:
    """End a subscription: no notification is queued for it any more, and those waiting are cancelled when due."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.status != Subscription.Status.OFF:
        locked.status = Subscription.Status.OFF
        locked.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=locked, summary="FHIR Subscription off")
    return locked


def subscription_for(client: ApiClient, pk) -> Subscription:
    """One of the client's own subscriptions; 404 for another's, as for one that does not exist."""
    subscription = Subscription.objects.filter(client=client, pk=resource_id_or_404(pk)).first()
    if subscription is None:
        raise Http404("No such resource.")
    return subscription


def subscription_resource(subscription: Subscription, *, secret: str | None = None) -> dict:
    """The Subscription as the backport profiles it for R4; the signing secret only in the answer to its creation."""
    channel = {
        "type": "rest-hook",
        "endpoint": subscription.endpoint,
        "payload": FHIR_JSON,
        "_payload": {"extension": [{"url": PAYLOAD_CONTENT, "valueCode": subscription.content}]},
    }
    if secret is not None:
        channel["extension"] = [{"url": secret_extension_url(), "valueString": secret}]
    resource = {
        "resourceType": "Subscription",
        "id": str(subscription.pk),
        "meta": {"lastUpdated": subscription.updated_at.isoformat(), "profile": [SUBSCRIPTION_PROFILE]},
        "status": "active" if subscription.is_active() else "off",
        "reason": subscription.reason or "Changes of the Tasks this client may see",
        "criteria": topic_url(),
        "channel": channel,
    }
    if subscription.end is not None:
        resource["end"] = subscription.end.isoformat()
    return resource


# --- a change: one notification per subscription that may see it -------------------------------------------


def notify_subscribers(*, referral_id: int, change: str, **kwargs) -> int:
    """`referrals.signals.task_changed`'s receiver, inside the change's transaction: queue one notification of
    this change for each active subscription whose client's system account may see the referral
    (`Referral.objects.visible_to`, the pages' one rule). Returns how many were queued."""
    now = timezone.now()
    # Only a client of the referral's referring or advice organisation, or of a partner advice organisation it was
    # handed over to while the partner sees it, can see it (its system account holds a membership of its own
    # organisation alone): the cost of a change does not grow with every client's subscriptions. `visible_to`
    # below still decides, and decides again at each attempt to send.
    referral = Referral.objects.filter(pk=referral_id)
    partners = Handover.objects.filter(referral_id=referral_id, state__in=PARTNER_SEES_STATES).values(
        "to_organisation_id"
    )
    candidates = list(
        Subscription.objects.filter(status=Subscription.Status.ACTIVE, client__revoked_at__isnull=True)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .filter(Q(client__expires_at__isnull=True) | Q(client__expires_at__gt=now))
        .filter(
            Q(client__organisation_id=Subquery(referral.values("referring_organisation_id")[:1]))
            | Q(client__organisation_id=Subquery(referral.values("advice_organisation_id")[:1]))
            | Q(client__organisation_id__in=partners)
        )
        .select_related("client__service_user")
        .order_by("pk")
    )
    if not candidates:
        return 0
    seeing = [
        subscription
        for subscription in candidates
        if Referral.objects.visible_to(subscription.client.service_user).filter(pk=referral_id).exists()
    ]
    if not seeing:
        return 0
    # Each subscription numbers its events: its row is locked till the change commits, in id order.
    locked = {
        subscription.pk: subscription
        for subscription in Subscription.objects.select_for_update()
        .filter(pk__in=[s.pk for s in seeing])
        .order_by("pk")
    }
    queued = 0
    for subscription in seeing:
        current = locked[subscription.pk]
        key = f"webhook:subscription:{subscription.pk}:{change}"
        if Message.objects.filter(key=key).exists():
            continue  # this change was told to this subscription already
        current.events_since_start += 1
        current.save(update_fields=["events_since_start"])
        message, _ = webhook_queue(
            recipient=subscription.client.service_user,
            kind=MessageKind.WEBHOOK,
            key=key,
            subject=f"Task/{referral_id} changed (event {current.events_since_start})",
        )
        SubscriptionNotification.objects.create(
            subscription=current,
            message=message,
            event_number=current.events_since_start,
            referral_id=referral_id,
            change=change,
            occurred_at=now,
        )
        queued += 1
    return queued


# --- at each attempt: what is sent ----------------------------------------------------------------------------


def event_id(notification: SubscriptionNotification) -> str:
    """The change's id for the receiver to de-duplicate on: the same on every retry of one notification."""
    return str(
        uuid.uuid5(
            uuid.NAMESPACE_URL, f"{codes.base_url()}/Subscription/{notification.subscription_id}#{notification.change}"
        )
    )


def compose_notification(message: Message) -> WebhookRequest | None:
    """The notification to POST now (hjp.notifications.services.register_webhook), or None when it may no longer
    go: the subscription ended, the client was revoked or expired, or its system account may no longer see the
    Task. The full Task only where the subscription asked for it and the patient has not withdrawn consent nor had
    their details removed; its disclosure is audited as the client's read."""
    from api.fhir import queries
    from api.fhir.views import _task

    notification = (
        SubscriptionNotification.objects.select_related("subscription__client__service_user")
        .filter(message=message)
        .first()
    )
    if notification is None:
        return None
    subscription = notification.subscription
    if not subscription.is_active() or not subscription.client.is_active():
        return None
    user = subscription.client.service_user
    try:
        referral = queries.referral_for(user, notification.referral_id)
    except Http404:
        return None
    task = None
    if subscription.content == Subscription.Content.FULL_RESOURCE and not _patient_data_withheld(referral):
        task = _task(referral)
        audit_record(
            actor=user,
            action=AuditEvent.Action.VIEW,
            obj=referral,
            summary=f"FHIR Task sent to Subscription/{subscription.pk} (event {notification.event_number})",
        )
    bundle = notification_bundle(notification, task=task)
    return WebhookRequest(
        url=subscription.endpoint,
        secret=subscription.secret,
        body=json.dumps(bundle, separators=(",", ":")).encode(),
        event_id=event_id(notification),
    )


def _patient_data_withheld(referral: Referral) -> bool:
    consent = getattr(referral, "consent", None)
    return (consent is not None and consent.is_withdrawn) or referral.patient.redacted_at is not None


def notification_bundle(notification: SubscriptionNotification, *, task: dict | None) -> dict:
    """The backport's R4 notification: a history Bundle, its first entry the subscription's status (a Parameters)
    with this event, then the Task itself when `task` is given."""
    base = codes.base_url()
    subscription = notification.subscription
    focus = f"{base}/Task/{notification.referral_id}"
    number = str(notification.event_number)
    identifier = event_id(notification)
    status = {
        "resourceType": "Parameters",
        "id": identifier,
        "meta": {"profile": [STATUS_PROFILE]},
        "parameter": [
            {"name": "subscription", "valueReference": {"reference": f"{base}/Subscription/{subscription.pk}"}},
            {"name": "topic", "valueCanonical": topic_url()},
            {"name": "status", "valueCode": "active"},
            {"name": "type", "valueCode": "event-notification"},
            {"name": "events-since-subscription-start", "valueString": str(subscription.events_since_start)},
            {
                "name": "notification-event",
                "part": [
                    {"name": "event-number", "valueString": number},
                    {"name": "timestamp", "valueInstant": notification.occurred_at.isoformat()},
                    {"name": "focus", "valueReference": {"reference": focus}},
                ],
            },
        ],
    }
    entries = [
        {
            "fullUrl": f"urn:uuid:{identifier}",
            "resource": status,
            "request": {"method": "GET", "url": f"{base}/Subscription/{subscription.pk}/$status"},
            "response": {"status": "200"},
        }
    ]
    if task is not None:
        entries.append(
            {
                "fullUrl": focus,
                "resource": task,
                "request": {"method": "PUT", "url": f"Task/{notification.referral_id}"},
                "response": {"status": "200"},
            }
        )
    return {
        "resourceType": "Bundle",
        "id": identifier,
        "meta": {"profile": [NOTIFICATION_PROFILE]},
        "type": "history",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }
