from outcomes.services import outcomes_redact_after_consent_withdrawal


def redact_outcomes_on_consent_withdrawal(sender, *, referral, actor, **kwargs):
    outcomes_redact_after_consent_withdrawal(referral=referral, actor=actor)
