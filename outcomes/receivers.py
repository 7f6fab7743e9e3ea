from outcomes.corrections import corrections_redact_after_consent_withdrawal
from outcomes.services import outcome_report_on_consent_given_later, outcomes_redact_after_consent_withdrawal
from referrals.models import ConsentScope


def redact_outcomes_on_consent_withdrawal(sender, *, referral, actor, **kwargs):
    outcomes_redact_after_consent_withdrawal(referral=referral, actor=actor)


def report_outcomes_on_consent_given_later(sender, *, referral, scope, given, actor, **kwargs):
    if scope == ConsentScope.OUTCOME_FEEDBACK and given:
        outcome_report_on_consent_given_later(referral=referral, actor=actor)


def redact_corrections_on_consent_withdrawal(sender, *, referral, actor, **kwargs):
    corrections_redact_after_consent_withdrawal(referral=referral)
