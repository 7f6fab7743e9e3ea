"""Migration 0004 takes the coded reason back out of the text declines used to store ("<label>. <words>")."""

import pytest

from casework import services as casework_services
from referrals.models import ReferralStatus, ReferralStatusChange
from tests.support.migrations import migrate_to

BEFORE = [("referrals", "0003_draft_may_be_discarded")]
AFTER = [("referrals", "0004_status_change_decline_reason")]


@pytest.mark.django_db(transaction=True)
def test_joined_decline_texts_are_split_into_code_and_words(referral, advisor_user):
    casework_services.referral_decline(
        referral=referral, actor=advisor_user, reason="out_of_area", explanation="Try Northtown Advice."
    )
    try:
        old = migrate_to(BEFORE).get_model("referrals", "ReferralStatusChange")
        joined = old.objects.get(referral_id=referral.pk, to_status=ReferralStatus.DECLINED)
        assert joined.reason == "Patient lives outside our area. Try Northtown Advice."
        for text in ("Other.", "[redacted: consent withdrawn]", "No capacity to take new cases. Ring in May."):
            old.objects.create(
                referral_id=referral.pk,
                from_status="submitted",
                to_status="declined",
                actor_id=advisor_user.pk,
                reason=text,
                at=joined.at,
            )
        migrate_to(AFTER)
        steps = ReferralStatusChange.objects.filter(referral=referral, to_status=ReferralStatus.DECLINED).order_by("pk")
        assert [(step.decline_reason, step.reason) for step in steps] == [
            ("out_of_area", "Try Northtown Advice."),
            ("other", ""),
            ("", "[redacted: consent withdrawn]"),
            ("no_capacity", "Ring in May."),
        ]
    finally:
        # Leave the schema as every later test expects it: all migrations applied, not only up to AFTER.
        migrate_to()
