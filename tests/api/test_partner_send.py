"""A handover to a provider outside hjp that has a FHIR server: hjp POSTs a signed transaction Bundle to it after
the commit, once, retries when the provider is unavailable, stops when consent is withdrawn first, sends only what
the consent allows, records the Task the provider made, and never reaches a private address unless allowed. The
provider here is a small FHIR server on loopback that checks every Bundle with fhir.resources (R4B)."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from api.tasks import send_to_partner, sweep_partner_sends
from casework import services
from casework.forms import ProviderForm
from casework.models import AdviceProvider, PartnerSend
from referrals import services as referral_services
from tests import factories
from tests.support.forms import once

pytestmark = pytest.mark.django_db

SECRET = "partner-shared-secret"


class FhirReceiver:
    """Answers each POST to its base with the status the test sets next (then 200), a transaction-response
    Bundle naming the Task it made; keeps every request and whether its Bundle was valid R4B."""

    def __init__(self):
        self.statuses: list[int] = []
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                problem = ""
                try:
                    Bundle.model_validate(json.loads(body))
                except ValueError as error:
                    problem = str(error)
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body, "problem": problem}
                )
                answer = {
                    "resourceType": "Bundle",
                    "type": "transaction-response",
                    "entry": [
                        {"response": {"status": "201 Created", "location": f"{kind}/{n}/_history/1"}}
                        for n, kind in enumerate(("Patient", "Consent", "ServiceRequest", "Task"), start=70)
                    ],
                }
                payload = json.dumps(answer).encode() if status == 200 else b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = FhirReceiver()
    yield running
    running.stop()


@pytest.fixture
def provider(advice_org, receiver):
    return factories.AdviceProviderFactory(
        advice_organisation=advice_org,
        name="Riverside Advice",
        fhir_base_url=receiver.url,
        fhir_signing_secret=SECRET,
    )


def redirect(referral, advisor, provider, capture):
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    with capture(execute=True):
        onward = services.referral_redirect(referral=referral, actor=advisor, provider=provider, note="x", share=share)
    return onward.handover


def resources(received) -> dict[str, dict]:
    return {entry["resource"]["resourceType"]: entry for entry in json.loads(received["body"])["entry"]}


def test_a_handover_is_sent_once_signed_valid_and_the_partners_task_is_recorded(
    client, advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    handover = redirect(referral, advisor_user, provider, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    received = receiver.received[0]
    assert received["path"] == "/fhir/"
    assert received["problem"] == ""
    expected = "sha256=" + hmac.new(SECRET.encode(), received["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received["headers"]["Hjp-Signature"])
    bundle = json.loads(received["body"])
    assert bundle["type"] == "transaction"
    assert bundle["identifier"]["value"] == f"handover-{handover.pk}" == received["headers"]["Hjp-Event-Id"]
    entries = resources(received)
    assert set(entries) == {"Patient", "Consent", "ServiceRequest", "Task"}
    task = entries["Task"]
    assert task["resource"]["status"] == "requested"
    assert task["request"]["ifNoneExist"].endswith(f"|handover-{handover.pk}")
    assert task["resource"]["for"]["reference"] == entries["Patient"]["fullUrl"]
    assert task["resource"]["basedOn"][0]["reference"] == entries["ServiceRequest"]["fullUrl"]
    assert entries["Patient"]["resource"]["name"][0]["family"] == referral.patient.family_name

    send = PartnerSend.objects.get(handover=handover)
    assert (send.status, send.attempts, send.partner_task) == ("sent", 1, "Task/73/_history/1")
    # Run again (a redelivered task): nothing more is sent.
    send_to_partner.delay(send.pk)
    assert len(receiver.received) == 1

    client.force_login(advisor_user)
    page = client.get(reverse("casework:handover", args=[handover.pk])).content.decode()
    assert "Sent to Riverside Advice by FHIR on" in page
    assert "Task/73/_history/1" in page


def test_an_onward_referral_during_a_case_is_sent_and_the_case_page_says_so(
    client, partnership, provider, receiver, django_capture_on_commit_callbacks
):
    case = factories.CaseFactory(referral__partnership=partnership)
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.onward_referral_make(case=case, actor=case.advisor, provider=provider, note="Debt.", share=share)
    assert len(receiver.received) == 1
    client.force_login(case.advisor)
    page = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "Sent to Riverside Advice by FHIR on" in page


def test_a_provider_unavailable_for_a_while_gets_the_same_bundle_again(
    advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [503]
    redirect(referral, advisor_user, provider, django_capture_on_commit_callbacks)  # a worker retries in 30 s
    send = PartnerSend.objects.get()
    assert (send.status, send.last_error) == ("retrying", "HTTP 503 Service Unavailable")
    send_to_partner.delay(send.pk)  # the retry
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first["body"] == second["body"]  # the same Bundle, the same identifiers: the provider de-duplicates
    send = PartnerSend.objects.get()
    assert (send.status, send.attempts) == ("sent", 2)


def test_a_send_whose_task_was_lost_is_sent_by_the_sweep(
    advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    with django_capture_on_commit_callbacks():  # the broker was down: the task never ran
        services.referral_redirect(referral=referral, actor=advisor_user, provider=provider, note="x", share=share)
    assert sweep_partner_sends.delay().get() == 0  # too recent: its task may still come
    PartnerSend.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    assert sweep_partner_sends.delay().get() == 1
    assert len(receiver.received) == 1
    assert PartnerSend.objects.get().status == "sent"
    assert sweep_partner_sends.delay().get() == 0


def test_a_refusal_is_not_retried_and_the_advisor_reads_why(
    client, advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [400]
    handover = redirect(referral, advisor_user, provider, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    assert PartnerSend.objects.get().status == "failed"
    client.force_login(advisor_user)
    page = client.get(reverse("casework:handover", args=[handover.pk])).content.decode()
    assert "by FHIR failed (HTTP 400 Bad Request), not retried" in page


def test_consent_withdrawn_before_the_send_stops_it(
    client, advisor_user, referrer_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:  # the send waits for its task
        handover = services.referral_redirect(
            referral=referral, actor=advisor_user, provider=provider, note="x", share=share
        ).handover
    referral_services.consent_withdraw(referral=referral, actor=referrer_user)
    for callback in callbacks:
        callback()
    assert receiver.received == []
    assert PartnerSend.objects.get().status == "stopped"
    client.force_login(advisor_user)
    page = client.get(reverse("casework:handover", args=[handover.pk])).content.decode()
    assert "Not sent to Riverside Advice: consent was withdrawn" in page


def test_only_what_the_consent_allows_is_sent(
    advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks
):
    referral.consent.medical_evidence = False
    referral.consent.outcome_feedback = False
    referral.consent.save(update_fields=["medical_evidence", "outcome_feedback"])
    redirect(referral, advisor_user, provider, django_capture_on_commit_callbacks)
    entries = resources(receiver.received[0])
    assert set(entries) == {"Patient", "Consent", "ServiceRequest", "Task"}  # no evidence, ever
    provisions = {
        p["action"][0]["coding"][0]["code"]: p["type"] for p in entries["Consent"]["resource"]["provision"]["provision"]
    }
    assert sorted(provisions.values()) == ["deny", "deny", "permit"]
    assert "output" not in entries["Task"]["resource"]


@pytest.mark.parametrize(("scheme", "why"), [("http", "must use https://"), ("https", "not a private, loopback")])
def test_no_send_to_a_private_address_where_loopback_is_not_allowed(
    settings, advisor_user, referral, provider, receiver, django_capture_on_commit_callbacks, scheme, why
):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    port = receiver.server.server_address[1]
    AdviceProvider.objects.filter(pk=provider.pk).update(fhir_base_url=f"{scheme}://127.0.0.1:{port}/fhir")
    provider.refresh_from_db()
    redirect(referral, advisor_user, provider, django_capture_on_commit_callbacks)
    assert receiver.received == []
    send = PartnerSend.objects.get()
    assert send.status == "failed"
    assert why in send.last_error


def test_a_provider_without_a_fhir_server_gets_no_send(
    advisor_user, referral, advice_org, django_capture_on_commit_callbacks
):
    plain = factories.AdviceProviderFactory(advice_organisation=advice_org)
    handover = redirect(referral, advisor_user, plain, django_capture_on_commit_callbacks)
    assert handover is not None
    assert not PartnerSend.objects.exists()


def test_the_secret_is_encrypted_at_rest_and_never_shown_back(provider, supervisor_user, client):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT fhir_signing_secret FROM casework_adviceprovider WHERE id = %s", [provider.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA") and SECRET not in stored
    provider.refresh_from_db()
    assert provider.fhir_signing_secret == SECRET
    client.force_login(supervisor_user)
    page = client.get(reverse("casework:provider_edit", args=[provider.pk])).content.decode()
    assert "FHIR base URL" in page and SECRET not in page


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://partner.example.org/fhir", "must use https://"),
        ("https://user:pw@partner.example.org/fhir", "user name or password"),
    ],
)
def test_the_fhir_base_url_is_checked(settings, advice_org, url, problem):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    data = {"name": "Riverside", "capacity": "open", "is_active": "on", "fhir_base_url": url}
    form = ProviderForm(
        data={**data, "fhir_signing_secret": "s"}, instance=AdviceProvider(advice_organisation=advice_org)
    )
    assert not form.is_valid()
    assert problem in str(form.errors["fhir_base_url"])


def test_a_supervisor_sets_the_url_and_a_blank_secret_keeps_the_saved_one(settings, client, supervisor_user, provider):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    client.force_login(supervisor_user)
    data = {"name": provider.name, "capacity": "open", "is_active": "on", "fhir_base_url": "https://p.example.org/"}
    response = client.post(reverse("casework:provider_edit", args=[provider.pk]), once(data))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.fhir_base_url, provider.fhir_signing_secret) == ("https://p.example.org/", SECRET)


def test_a_fhir_base_url_needs_a_secret(settings, client, supervisor_user):
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    client.force_login(supervisor_user)
    data = {"name": "Riverside", "capacity": "open", "is_active": "on", "fhir_base_url": "https://p.example.org/"}
    response = client.post(reverse("casework:provider_add"), once(data))
    assert response.status_code == 400
    assert "Give the secret the provider checks signatures with." in response.content.decode()
    assert 'value="https://p.example.org/"' in response.content.decode()  # what was typed is kept
    assert not AdviceProvider.objects.filter(name="Riverside").exists()
