"""End to end with an independent FHIR client library (fhirpy) against the running server (pytest-django's
live_server), as a GP system would integrate: a token by client credentials, the README's referral Bundle, the
Task polled, a Subscription registered, the advice service accepting and closing the case, the signed webhooks
received from a real Celery worker on a loopback listener, and the outcome read back as Task.output."""

from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from fhirpy import SyncFHIRClient

from casework import services as casework_services
from outcomes import services as outcome_services
from referrals.models import ProblemCategory, ProblemSubCategory, Referral
from tests.api.conftest import register
from tests.api.fhir.bundles import example_bundle
from tests.support.celery_worker import celery_publishing_to, start_worker, wait_for
from tests.support.webhook_listener import WebhookListener

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition"


@pytest.fixture
def site(live_server, settings):
    """The live server, its URL the installation's SITE_URL (canonical URLs, the topic) here and in the worker."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def listener():
    running = WebhookListener().start()
    yield running
    running.stop()


@pytest.fixture
def worker(site, redis_url, tmp_path):
    with celery_publishing_to(redis_url):
        running = start_worker(broker_url=redis_url, workdir=tmp_path, env={"SITE_URL": site})
        yield running
        running.stop()


def token(site: str, new_client) -> str:
    application = new_client.client.application
    answer = requests.post(
        f"{site}/oauth/token/",
        data={"grant_type": "client_credentials"},
        auth=(application.client_id, new_client.client_secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def events(listener, secret: str) -> list[dict]:
    """The notifications received, each checked against its signature as the client's receiver would."""
    received = listener.received()
    assert all(item.signed_with(secret) for item in received)
    return [item.json() for item in received]


def focus_status(notification: dict) -> str | None:
    """The Task's status in a full-resource notification."""
    return notification["entry"][1]["resource"]["status"] if len(notification["entry"]) > 1 else None


def test_a_gp_system_submits_follows_and_reads_the_outcome_with_fhirpy(
    site, worker, listener, health_org, partnership, advisor_user
):
    gp = register(health_org, scopes=("referrals:read", "referrals:write"))
    fhir = SyncFHIRClient(f"{site}/fhir", authorization=f"Bearer {token(site, gp)}")

    # Submit the README's Bundle, then find its Task by the ServiceRequest it fulfils.
    answer = fhir.execute("/", method="post", data=example_bundle())
    assert answer["type"] == "transaction-response"
    locations = [entry["response"]["location"] for entry in answer["entry"]]
    [service_request] = [location for location in locations if location.startswith("ServiceRequest/")]
    [task] = fhir.resources("Task").search(focus=service_request).fetch()
    assert task["status"] == "requested"
    assert fhir.reference("Task", task.id).to_resource()["status"] == "requested"

    # Register the subscription: full Tasks, to the listener; the secret comes once, in the answer.
    subscription = fhir.resource(
        "Subscription",
        meta={"profile": [f"{BACKPORT}/backport-subscription"]},
        status="requested",
        reason="Our referrals",
        criteria=f"{site}/fhir/SubscriptionTopic/task-changed",
        channel={
            "type": "rest-hook",
            "endpoint": listener.url,
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": f"{BACKPORT}/backport-payload-content", "valueCode": "full-resource"}]},
        },
    )
    subscription.save()
    assert subscription["status"] == "active"
    [secret] = [e["valueString"] for e in subscription["channel"]["extension"] if e["url"].endswith("signing-secret")]
    assert "extension" not in fhir.reference("Subscription", subscription.id).to_resource()["channel"]

    # The advice service accepts, records a first contact and an outcome, and closes the case (its services).
    referral = Referral.objects.get(pk=int(task.id))
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    wait_for(lambda: "accepted" in [focus_status(n) for n in events(listener, secret)], timeout=20, what="accepted")
    casework_services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="First call.", occurred_at=timezone.now(), first_contact=True
    )
    case.refresh_from_db()
    issue = case.issues.first() or casework_services.case_issue_add(
        case=case,
        actor=advisor_user,
        category=ProblemCategory.objects.get(code="benefits"),
        sub_category=ProblemSubCategory.objects.get(code="pip"),
    )
    outcome_services.financial_outcome_add(
        case=case,
        issue=issue,
        actor=advisor_user,
        kind="new_or_increased_award",
        benefit=ProblemSubCategory.objects.get(code="pip"),
        recurring_amount=Decimal("108.55"),
        recurring_period="weekly",
        confirmed=True,
    )
    case.refresh_from_db()
    outcome_services.case_close_with_outcomes(
        case=case, actor=advisor_user, version=case.version, closure_reason="work_completed"
    )

    # The webhook says the Task completed, with its output; the client reads the same from the server.
    completed = wait_for(
        lambda: [n for n in events(listener, secret) if focus_status(n) == "completed"],
        timeout=30,
        what="the completed Task's notification",
    )
    assert completed[-1]["entry"][1]["resource"]["output"]
    worker.wait_idle()
    notifications = events(listener, secret)
    numbers = [
        part["valueString"]
        for n in notifications
        for p in n["entry"][0]["resource"]["parameter"]
        if p["name"] == "notification-event"
        for part in p["part"]
        if part["name"] == "event-number"
    ]
    assert sorted(numbers, key=int) == [str(i) for i in range(1, len(notifications) + 1)]  # one per change

    done = fhir.reference("Task", task.id).to_resource()
    assert done["status"] == "completed"
    [output] = done["output"]
    assert "Personal Independence Payment" in output["type"]["text"]
    assert output == completed[-1]["entry"][1]["resource"]["output"][0]
