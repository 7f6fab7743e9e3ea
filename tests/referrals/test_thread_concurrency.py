"""A message written at the moment consent is withdrawn, over HTTP against the live server on the real
PostgreSQL: the referral's row lock orders the two, so the message is either written first and erased by the
withdrawal, or refused after it with the reason; never left readable on an erased patient."""

import pytest
from django.urls import reverse

from hjp.core.redaction import REDACTED
from referrals.models import ReferralMessage
from tests.support.live import BrowserSession, hidden_inputs, send_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("attempt", range(6))  # each order of the two, several times
def test_a_message_sent_while_consent_is_withdrawn_is_erased_or_refused(
    live_server, referral, referrer_user, advisor_user, attempt
):
    writer, withdrawer = BrowserSession(live_server.url, advisor_user), BrowserSession(live_server.url, referrer_user)
    thread_url = reverse("referrals:thread", args=[referral.pk])
    withdraw_url = reverse("referrals:withdraw_consent", args=[referral.pk])
    message = {**hidden_inputs(writer.get(thread_url).text), "text": "Her new address is 4 Elm Row"}
    withdrawal = {**hidden_inputs(withdrawer.get(withdraw_url).text), "confirm": "on"}

    written, withdrawn = send_together(
        lambda: writer.post(thread_url, message), lambda: withdrawer.post(withdraw_url, withdrawal), hold=referral
    )

    assert withdrawn.status == 302
    referral.consent.refresh_from_db()
    assert referral.consent.is_withdrawn
    if written.status == 302:  # written first: the withdrawal erased it
        assert list(ReferralMessage.objects.values_list("text", flat=True)) == [REDACTED]
    else:
        assert written.status == 400 and "this conversation is closed" in written.text
        assert not ReferralMessage.objects.exists()
    assert not ReferralMessage.objects.filter(text__contains="Elm Row").exists()
