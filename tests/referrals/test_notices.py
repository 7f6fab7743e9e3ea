"""The status notices the referrer reads when the advice service accepts, declines or redirects a referral."""

import pytest

from hjp.core.text import full_stop
from hjp.notifications.models import Message
from referrals import services
from referrals.models import ReferralStatus
from tests import factories


@pytest.mark.django_db
def test_a_decline_notice_reads_as_sentences_with_one_full_stop_after_the_initials():
    referral = factories.ReferralFactory(
        reference="RGW9RTBR", patient__given_name="Barbara", patient__family_name="Kowalski"
    )
    referral.advice_organisation.name = "Leeds Welfare Rights"
    referral.advice_organisation.save()
    advisor = factories.advisor(referral.advice_organisation)

    services.referral_transition(
        referral=referral, to_status=ReferralStatus.DECLINED, actor=advisor, reason="Outside our area."
    )

    body = Message.objects.get(referral_id=referral.pk).body
    assert body == (
        "Leeds Welfare Rights cannot take on your referral.\n\n"
        "Referral RGW9RTBR for B.K.\n\n"
        "Reason from the advice service: Outside our area."
    )
    assert ".." not in body


@pytest.mark.parametrize(
    ("sentence", "ended"),
    [
        ("Referral R1 for B.K.", "Referral R1 for B.K."),
        ("Referral R1 for the patient", "Referral R1 for the patient."),
    ],
)
def test_full_stop_ends_a_sentence_once(sentence, ended):
    assert full_stop(sentence) == ended
