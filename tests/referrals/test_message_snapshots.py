"""The wording of the status notices a referrer gets, compared with reviewed snapshots in tests/snapshots/."""

import pytest

from hjp.notifications.models import Message, MessageKind
from referrals import services
from referrals.models import ReferralStatus
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

S = ReferralStatus


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "to_status", "reason", "decline_reason"),
    [
        ("status_notice_accepted", S.ACCEPTED, "", ""),
        ("status_notice_declined", S.DECLINED, "Try the county service.", "out_of_area"),
        ("status_notice_redirected", S.REDIRECTED, "Passed to Leeds Law Centre.", ""),
    ],
)
def test_the_status_notice(name, to_status, reason, decline_reason):
    referral = factories.ReferralFactory(
        reference="RSNAP004", patient__given_name="Barbara", patient__family_name="Kowalski"
    )
    referral.advice_organisation.name = "Leeds Welfare Rights"
    referral.advice_organisation.save()
    services.referral_transition(
        referral=referral,
        to_status=to_status,
        actor=factories.advisor(referral.advice_organisation),
        reason=reason,
        decline_reason=decline_reason,
    )
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.STATUS_NOTICE)), name)


@pytest.mark.django_db
def test_a_notice_is_plain_text_with_names_as_typed():
    referral = factories.ReferralFactory(patient__given_name="Orla", patient__family_name="O'Neil")
    referral.advice_organisation.name = "Citizens Advice Leeds & District"
    referral.advice_organisation.save()
    services.referral_transition(
        referral=referral,
        to_status=S.DECLINED,
        actor=factories.advisor(referral.advice_organisation),
        reason="Try <the county service> & call us.",
    )
    body = Message.objects.get(kind=MessageKind.STATUS_NOTICE).body
    assert body.startswith("Citizens Advice Leeds & District cannot take on your referral.")
    assert body.endswith("Reason from the advice service: Try <the county service> & call us.")
