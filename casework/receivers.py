from casework.services import case_stop_after_consent_withdrawal, evidence_requests_cancel_for_consent
from referrals.models import ConsentScope


def stop_case_on_consent_withdrawal(sender, *, referral, actor, **kwargs):
    case_stop_after_consent_withdrawal(referral=referral, actor=actor)


def cancel_evidence_requests_on_scope_2_withdrawal(sender, *, referral, scope, given, actor, **kwargs):
    if scope == ConsentScope.MEDICAL_EVIDENCE and not given:
        evidence_requests_cancel_for_consent(referral=referral, actor=actor)
