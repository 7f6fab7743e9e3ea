"""A referral handed over to a partner advice service in hjp: the partner's clients that subscribed are told of
its Task's changes while the partner may see the referral (`Referral.objects.visible_to`: the handover sent,
accepted or closed), and not once the partner declined it; the original service's client goes on being told."""

import pytest
from django.utils import timezone

from casework.models import CaseState
from casework.services.lifecycle import case_set_business_status, case_transition
from casework.services.providers import ShareConsent, onward_referral_make
from casework.services.triage import referral_accept
from referrals.models import CaseStatus
from referrals.services import handover_decide
from tests import factories
from tests.api.conftest import register
from tests.api.test_subscriptions import status_of, subscribe
from tests.support.webhook_listener import WebhookListener

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    running = WebhookListener().start()
    yield running
    running.stop()


def _heard(listener, who: str) -> list[dict]:
    return [item.json() for item in listener.received() if item.path.endswith(f"who={who}")]


def test_a_partner_client_hears_of_the_task_while_the_handover_stands_and_not_after(
    client, advice_client, advice_org, sent_referral, listener, django_capture_on_commit_callbacks
):
    partner_org = factories.AdviceOrganisationFactory(name="Northside Law Centre")
    partner_advisor = factories.advisor(partner_org)
    provider = factories.AdviceProviderFactory(
        advice_organisation=advice_org, name="Northside Law Centre", partner_organisation=partner_org
    )
    advisor = factories.advisor(advice_org)
    case = referral_accept(referral=sent_referral, actor=advisor)
    _, partner_secret = subscribe(client, register(partner_org), listener.url + "?who=partner", content="id-only")
    subscribe(client, advice_client, listener.url + "?who=advice", content="id-only")
    with django_capture_on_commit_callbacks(execute=True):
        onward = onward_referral_make(
            case=case,
            actor=advisor,
            provider=provider,
            note="Housing possession: they represent at court.",
            share=ShareConsent(given_by="patient", method="phone", said_at=timezone.now()),
        )

    # While the handover waits for the partner: the first contact moves the Task (status, then businessStatus).
    with django_capture_on_commit_callbacks(execute=True):
        case_transition(case=case, to_state=CaseState.IN_PROGRESS, actor=advisor, first_contact_at=timezone.now())
    heard = _heard(listener, "partner")
    assert len(heard) == 2
    assert all(item.signed_with(partner_secret) for item in listener.received() if item.path.endswith("partner"))
    event = {part["name"]: part for part in status_of(heard[0])["notification-event"]["part"]}
    assert event["focus"]["valueReference"]["reference"].endswith(f"/Task/{sent_referral.pk}")

    # The partner declines: it no longer sees the referral, nor hears of it; the original service still does.
    handover_decide(handover=onward.handover, actor=partner_advisor, accept=False, note="No capacity this month.")
    with django_capture_on_commit_callbacks(execute=True):
        case_set_business_status(case=case, business_status=CaseStatus.CLAIM_LODGED, actor=advisor)
    assert len(_heard(listener, "partner")) == 2
    assert len(_heard(listener, "advice")) == 3
