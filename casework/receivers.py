from casework.services import case_stop_after_consent_withdrawal


def stop_case_on_consent_withdrawal(sender, *, referral, actor, **kwargs):
    case_stop_after_consent_withdrawal(referral=referral, actor=actor)
