"""Migration 0009 completes the withdrawals recorded before the one erasure path: what they left goes, and
each redacted patient says why."""

import pytest
from django.utils import timezone

from hjp.core.redaction import ErasureReason
from referrals.models import Consent, Patient
from tests import factories
from tests.support.migrations import migrate_to

BEFORE = [("referrals", "0008_problem_sub_categories")]
AFTER = [("referrals", "0009_patient_redaction_reason")]


@pytest.mark.django_db(transaction=True)
def test_patients_redacted_before_lose_what_the_old_withdrawal_left():
    withdrawn = factories.ReferralFactory(status="cancelled")
    kept = factories.ReferralFactory(patient__sex="male", patient__ethnicity="Welsh")
    try:
        old = migrate_to(BEFORE)
        old.get_model("referrals", "Patient").objects.filter(referral=withdrawn.pk).update(
            given_name="Redacted",
            family_name="patient",
            sex="female",
            ethnicity="Polish",
            language="Polish",
            interpreter_needed=True,
            redacted_at=timezone.now(),
        )
        old.get_model("referrals", "Consent").objects.filter(referral=withdrawn.pk).update(
            withdrawal_note="Her daughter Anna rang", withdrawn_at=timezone.now()
        )
        migrate_to(AFTER)
        patient = Patient.objects.get(referral=withdrawn)
        assert (patient.given_name, patient.sex, patient.ethnicity, patient.language) == ("", "", "", "")
        assert not patient.interpreter_needed and patient.redaction_reason == ErasureReason.CONSENT_WITHDRAWN
        assert Consent.objects.get(referral=withdrawn).withdrawal_note == ""
        untouched = Patient.objects.get(referral=kept)
        assert (untouched.sex, untouched.ethnicity, untouched.redaction_reason) == ("male", "Welsh", "")
    finally:
        migrate_to()
