"""Topic-based Subscriptions (the Subscriptions R5 Backport's R4 profiles): registering one, and what a change of a
Task sends through the outbox to the client's endpoint: a real HTTP listener on loopback, Celery run in-process.
The real worker, retries and giving up are in test_webhook_worker.py."""

import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.subscription import Subscription as FhirSubscription
from fhir.resources.R4B.task import Task

from api.fhir import subscriptions
from api.models import Subscription, SubscriptionNotification
from casework.services.triage import referral_accept
from hjp.audit.models import AuditEvent
from hjp.notifications import services as outbox
from hjp.notifications import webhooks
from hjp.notifications.models import Delivery, Message
from referrals import services as referral_services
from tests import factories
from tests.api.conftest import register
from tests.api.fhir.test_views import Fhir, outcome
from tests.support.webhook_listener import WebhookListener

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    running = WebhookListener().start()
    yield running
    running.stop()


def subscription_request(endpoint: str, content: str = "full-resource", **fields) -> dict:
    return {
        "resourceType": "Subscription",
        "meta": {"profile": [subscriptions.SUBSCRIPTION_PROFILE]},
        "status": "requested",
        "reason": "Follow our referrals",
        "criteria": subscriptions.topic_url(),
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": subscriptions.PAYLOAD_CONTENT, "valueCode": content}]},
        },
        **fields,
    }


def subscribe(client, new_client, endpoint: str, content: str = "full-resource") -> tuple[dict, str]:
    """Register through POST /fhir/Subscription; the created resource and its signing secret."""
    response = Fhir(client, _token(new_client)).post("/fhir/Subscription", subscription_request(endpoint, content))
    assert response.status_code == 201, response.content
    created = response.json()
    FhirSubscription.model_validate(created)
    [secret] = [e["valueString"] for e in created["channel"]["extension"] if e["url"].endswith("signing-secret")]
    return created, secret


def _token(new_client) -> str:
    from tests.api.conftest import token_for

    return token_for(new_client)


def accept(referral, capture):
    with capture(execute=True):
        referral_accept(referral=referral, actor=factories.advisor(referral.advice_organisation))


def notifications(listener) -> list[dict]:
    return [received.json() for received in listener.received()]


def status_of(bundle: dict) -> dict:
    parameters = bundle["entry"][0]["resource"]
    Parameters.model_validate(parameters)
    return {p["name"]: p for p in parameters["parameter"]}


def test_a_client_registers_a_subscription_and_reads_it_without_its_secret(client, health_client, listener):
    created, secret = subscribe(client, health_client, listener.url)
    assert created["status"] == "active" and created["criteria"] == subscriptions.topic_url()
    assert len(secret) >= 40
    system = Fhir(client, _token(health_client))
    read = system.get(f"/fhir/Subscription/{created['id']}").json()
    FhirSubscription.model_validate(read)
    assert secret not in json.dumps(read) and "extension" not in read["channel"]
    listed = system.get("/fhir/Subscription").json()
    assert [entry["resource"]["id"] for entry in listed["entry"]] == [created["id"]]
    assert AuditEvent.objects.filter(actor=health_client.client.service_user, summary__startswith="FHIR Subscription")


def test_a_bad_subscription_gets_an_operation_outcome_naming_each_problem(client, health_client):
    system = Fhir(client, _token(health_client))
    bad = subscription_request("http://example.org/hook", content="everything", criteria="Task?status=completed")
    bad["channel"]["type"] = "websocket"
    issues = outcome(system.post("/fhir/Subscription", bad), 422)
    assert {issue["expression"][0] for issue in issues} == {
        "Subscription.criteria",
        "Subscription.channel.type",
        "Subscription.channel.endpoint",
        "Subscription.channel.payload.extension",
    }
    assert "https://" in next(i["diagnostics"] for i in issues if i["expression"][0].endswith("endpoint"))
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:9000/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://localhost/x", "ftp://a"],
)
def test_production_takes_only_https_endpoints_on_the_internet(settings, endpoint):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    assert webhooks.endpoint_problem(endpoint)
    assert webhooks.endpoint_problem("https://gp-system.example.nhs.uk/hjp-hooks") is None


def test_production_refuses_a_name_that_resolves_to_the_private_network(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    resolved = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: resolved)
    request = webhooks.WebhookRequest(url="https://hooks.example.org/hook", secret="s", body=b"{}", event_id="e")
    assert webhooks.endpoint_problem(request.url) is None  # the name is fine; where it leads at send time is not
    with pytest.raises(webhooks.WebhookError, match="private, loopback or reserved"):
        webhooks.post(request)


def test_another_clients_subscription_is_not_found(client, health_client, other_health_org, listener):
    created, _ = subscribe(client, health_client, listener.url)
    other = Fhir(client, _token(register(other_health_org)))
    assert outcome(other.get(f"/fhir/Subscription/{created['id']}"), 404)
    assert outcome(other.client.delete(f"/fhir/Subscription/{created['id']}", headers=other.headers), 404)
    assert Subscription.objects.get().status == "active"


def test_a_change_is_posted_signed_to_each_client_that_may_see_it_and_no_other(
    client, health_client, advice_client, other_health_org, sent_referral, listener, django_capture_on_commit_callbacks
):
    _, health_secret = subscribe(client, health_client, listener.url + "?who=health")
    _, advice_secret = subscribe(client, advice_client, listener.url + "?who=advice", content="id-only")
    subscribe(client, register(other_health_org), listener.url + "?who=stranger")

    accept(sent_referral, django_capture_on_commit_callbacks)

    received = listener.received()
    # Accepting moves the Task's status and sets its businessStatus: two changes, told to the two clients that
    # may see the referral, and nothing to the other organisation's.
    assert sorted(r.path.split("=")[1] for r in received) == ["advice", "advice", "health", "health"]
    for item in received:
        secret = health_secret if item.path.endswith("health") else advice_secret
        assert item.signed_with(secret)
        assert not item.signed_with(advice_secret if secret == health_secret else health_secret)
        assert item.headers["content-type"] == "application/fhir+json"
        bundle = item.json()
        Bundle.model_validate(bundle)
        assert bundle["type"] == "history" and bundle["id"] == item.headers["hjp-event-id"]
        event = {part["name"]: part for part in status_of(bundle)["notification-event"]["part"]}
        assert event["focus"]["valueReference"]["reference"].endswith(f"/Task/{sent_referral.pk}")
    health = [r.json() for r in received if r.path.endswith("health")]
    assert [status_of(b)["notification-event"]["part"][0]["valueString"] for b in health] == ["1", "2"]
    assert len({r.headers["hjp-event-id"] for r in received}) == 4
    task = health[-1]["entry"][1]["resource"]
    Task.model_validate(task)
    assert task["status"] == "accepted" and task["businessStatus"]["coding"][0]["code"] == "awaiting_first_contact"
    assert all(len(r.json()["entry"]) == 1 for r in received if r.path.endswith("advice"))  # id-only
    assert set(Delivery.objects.filter(channel="webhook").values_list("status", flat=True)) == {"sent"}
    assert (
        AuditEvent.objects.filter(
            actor=health_client.client.service_user, summary__contains="sent to Subscription"
        ).count()
        == 2
    )


def test_after_consent_is_withdrawn_a_notification_carries_no_patient_data(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    subscribe(client, health_client, listener.url, content="full-resource")
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.consent_withdraw(referral=sent_referral, actor=health_client.client.service_user)
    [received] = listener.received()
    bundle = received.json()
    assert len(bundle["entry"]) == 1  # id-only, though the subscription asked for the whole Task
    assert sent_referral.patient.family_name not in received.body.decode()


def test_a_client_that_may_no_longer_see_the_task_gets_nothing(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    subscribe(client, health_client, listener.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        referral_accept(referral=sent_referral, actor=factories.advisor(sent_referral.advice_organisation))
    assert Message.objects.filter(kind="webhook").count() == 2
    health_client.client.service_user.memberships.all().delete()  # no longer of the organisation
    for callback in callbacks:
        callback()
    assert listener.received() == []
    assert set(Message.objects.filter(kind="webhook").values_list("status", flat=True)) == {"cancelled"}


def test_an_ended_subscription_gets_no_more_notifications(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    created, _ = subscribe(client, health_client, listener.url)
    system = Fhir(client, _token(health_client))
    assert system.client.delete(f"/fhir/Subscription/{created['id']}", headers=system.headers).status_code == 204
    accept(sent_referral, django_capture_on_commit_callbacks)
    assert listener.received() == []
    assert not SubscriptionNotification.objects.exists()


def test_a_change_is_queued_once_per_subscription_however_often_it_is_told(
    client, health_client, sent_referral, listener
):
    subscribe(client, health_client, listener.url)
    from referrals.signals import task_changed

    for _ in range(3):
        task_changed.send(sender=None, referral_id=sent_referral.pk, change="audit-123")
    notification = SubscriptionNotification.objects.get()
    assert notification.event_number == 1 and notification.message.key.endswith(":audit-123")


def test_a_task_run_again_after_its_notification_went_sends_nothing(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    subscribe(client, health_client, listener.url)
    accept(sent_referral, django_capture_on_commit_callbacks)
    assert len(listener.received()) == 2
    for message in Message.objects.filter(kind="webhook"):
        outbox.message_deliver(message_id=message.pk)
    assert len(listener.received()) == 2


def test_a_notification_left_sending_by_a_dead_worker_is_sent_again_by_the_sweep_and_no_sooner(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    subscribe(client, health_client, listener.url)
    with django_capture_on_commit_callbacks(execute=False):
        referral_accept(referral=sent_referral, actor=factories.advisor(sent_referral.advice_organisation))
    stale, fresh = Delivery.objects.filter(channel="webhook").order_by("pk")
    now = timezone.now()
    # What a worker killed mid-POST leaves: the attempt committed as sending, its outcome never recorded.
    Message.objects.filter(kind="webhook").update(status=Message.Status.DELIVERED)
    Delivery.objects.filter(pk=stale.pk).update(
        status="sending", attempts=1, last_attempt_at=now - outbox.webhook_sending_stale_after() - timedelta(seconds=1)
    )
    Delivery.objects.filter(pk=fresh.pk).update(status="sending", attempts=1, last_attempt_at=now)
    # Celery runs in-process here; the other message handed over is the referrer's status notice, still pending.
    assert outbox.messages_sweep(older_than=timedelta(0)) == 2
    [received] = listener.received()
    assert received.headers["hjp-event-id"] == subscriptions.event_id(stale.message.subscription_notification)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.attempts) == ("sent", 2)
    assert fresh.status == "sending"  # its worker may still be posting it: not sent a second time yet
    outbox.message_deliver(message_id=fresh.message_id)  # a redelivered task, too soon
    assert len(listener.received()) == 1


@pytest.mark.parametrize("strangers", [1, 6])
def test_a_change_costs_one_query_however_many_clients_elsewhere_subscribed(
    client, other_health_org, sent_referral, listener, strangers, django_assert_num_queries
):
    from referrals.signals import task_changed

    for n in range(strangers):
        subscribe(client, register(other_health_org, name=f"Elsewhere {n}"), listener.url)
    with django_assert_num_queries(1):
        task_changed.send(sender=None, referral_id=sent_referral.pk, change="audit-1")
    assert not SubscriptionNotification.objects.exists()


def test_the_outbox_keeps_what_went_not_the_task_it_carried(
    client, health_client, sent_referral, listener, django_capture_on_commit_callbacks
):
    subscribe(client, health_client, listener.url, content="full-resource")
    accept(sent_referral, django_capture_on_commit_callbacks)
    for message, received in zip(
        Message.objects.filter(kind="webhook").order_by("pk"), listener.received(), strict=True
    ):
        assert message.body == (
            f"Event {received.headers['hjp-event-id']}: {len(received.body)} bytes, signed, to the subscription's endpoint."
        )
        assert '"Task"' in received.body.decode() and "Task" not in message.body
