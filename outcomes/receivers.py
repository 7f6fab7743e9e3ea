from outcomes.services import outcome_report_on_consent_given_later
from referrals.models import ConsentScope


def report_outcomes_on_consent_given_later(sender, *, referral, scope, given, actor, **kwargs):
    if scope == ConsentScope.OUTCOME_FEEDBACK and given:
        outcome_report_on_consent_given_later(referral=referral, actor=actor)
