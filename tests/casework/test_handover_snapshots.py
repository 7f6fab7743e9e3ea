"""The wording of the notices about a handover, compared with reviewed snapshots in tests/snapshots/."""

import pytest
from django.utils import timezone

from casework import services
from hjp.notifications.models import Message
from referrals import services as referral_services
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text


@pytest.mark.django_db
def test_the_handover_notices(django_capture_on_commit_callbacks):
    referral = factories.ReferralFactory(
        reference="RSNAP015", patient__given_name="Barbara", patient__family_name="Kowalski"
    )
    referral.advice_organisation.name = "Leeds Welfare Rights"
    referral.advice_organisation.save()
    partner = factories.AdviceOrganisationFactory(name="Chapeltown Law Centre")
    provider = factories.AdviceProviderFactory(
        advice_organisation=referral.advice_organisation, name="Chapeltown Law Centre", partner_organisation=partner
    )
    advisor, partner_advisor = factories.advisor(referral.advice_organisation), factories.advisor(partner)
    share = services.ShareConsent(given_by="patient", method="phone", said_at=timezone.now())
    handover = services.referral_redirect(
        referral=referral, actor=advisor, provider=provider, note="Housing.", share=share
    ).handover
    with django_capture_on_commit_callbacks(execute=True):
        referral_services.handover_decide(handover=handover, actor=partner_advisor, accept=True, note="We call today.")
        referral_services.handover_close(
            handover=handover, actor=partner_advisor, outcome="resolved", note="Eviction stopped."
        )
    to_referrer = Message.objects.filter(recipient=referral.referrer, key__startswith="handover:").order_by("pk")
    assert_matches_snapshot(message_text(to_referrer[0]), "handover_accepted")
    assert_matches_snapshot(message_text(to_referrer[1]), "handover_closed")
