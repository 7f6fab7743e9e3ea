"""What outcomes does when something below it changes: report outcomes when consent is given later, and mark
the referral whose figures a save or a delete may move (outcomes.running_figures), in the same transaction."""

from casework.models import Case
from outcomes import running_figures
from outcomes.models import DecisionOutcome, FinancialOutcome, WellbeingScore
from outcomes.services import outcome_report_on_consent_given_later
from referrals.models import Consent, ConsentScope, Patient, Referral, ReferralStatus, ReferralStatusChange


def report_outcomes_on_consent_given_later(sender, *, referral, scope, given, actor, **kwargs):
    if scope == ConsentScope.OUTCOME_FEEDBACK and given:
        outcome_report_on_consent_given_later(referral=referral, actor=actor)


# Per model: the fields a figure reads (a save naming only other fields in `update_fields` moves no figure), and
# the referrals an instance belongs to.
COUNTED_FIELDS = {
    Referral: (
        {
            "status",
            "submitted_at",
            "partnership",
            "referring_organisation",
            "referring_team",
            "referrer_profession",
            "setting",
            "patient",
        },
        lambda r: {"pk": r.pk},
    ),
    Patient: ({"deprivation_decile"}, lambda p: {"patient": p.pk}),
    Consent: ({"referral", "outcome_feedback"}, lambda c: {"pk": c.referral_id}),
    Case: ({"referral", "advisor", "opened_at", "first_contact_at", "closed_at"}, lambda c: {"pk": c.referral_id}),
    ReferralStatusChange: (
        {"referral", "to_status", "decline_reason"},
        lambda change: {"pk": change.referral_id},
    ),
    FinancialOutcome: (
        {"issue", "annual_amount", "one_off_amount", "confirmed", "entered_in_error_at"},
        lambda o: {"case__issues": o.issue_id},
    ),
    DecisionOutcome: ({"issue", "stage", "result", "entered_in_error_at"}, lambda o: {"case__issues": o.issue_id}),
    WellbeingScore: ({"case", "moment", "total"}, lambda s: {"case": s.case_id}),
}


def _moves_no_figure(sender, instance, update_fields) -> bool:
    if sender is Referral and instance.status == ReferralStatus.DRAFT and instance.submitted_at is None:
        return True  # a draft counts nowhere, and stays a draft until submitted
    if sender is ReferralStatusChange and instance.to_status != ReferralStatus.DECLINED:
        return True  # only a decline's reason is counted
    fields, _ = COUNTED_FIELDS[sender]
    return update_fields is not None and not fields.intersection(name.removesuffix("_id") for name in update_fields)


def figures_on_save(sender, instance, update_fields=None, **kwargs):
    if _moves_no_figure(sender, instance, update_fields):
        return
    _, referrals = COUNTED_FIELDS[sender]
    running_figures.mark_pending(Referral.objects.filter(**referrals(instance)))


def figures_on_delete(sender, instance, **kwargs):
    if sender is Referral:
        running_figures.mark_referral_pending(referral_id=instance.pk, partnership_id=instance.partnership_id)
    else:
        figures_on_save(sender, instance)
