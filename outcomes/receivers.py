"""What outcomes does when something below it changes: report outcomes when consent is given later, and mark
the referral whose figures a save or a delete may move (outcomes.running_figures), in the same transaction."""

from casework.models import Case, OnwardReferral
from outcomes import running_figures
from outcomes.models import DecisionOutcome, ExperienceSurvey, FinancialOutcome, WellbeingScore
from outcomes.services import outcome_report_on_consent_given_later
from referrals.models import (
    Consent,
    ConsentScope,
    Handover,
    Patient,
    Referral,
    ReferralStatus,
    ReferralStatusChange,
)


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
    WellbeingScore: ({"case", "moment", "total", "self_reported"}, lambda s: {"case": s.case_id}),
    ExperienceSurvey: ({"case", "easy_to_get_help", "made_a_difference"}, lambda s: {"case": s.case_id}),
    OnwardReferral: ({"referral", "provider", "made_at", "handover"}, lambda o: {"pk": o.referral_id}),
    Handover: ({"referral", "state", "outcome"}, lambda h: {"pk": h.referral_id}),
}


# Per model whose referral is found through a foreign key: that key, and the path from a referral to its value.
# Changing the key (a case given to another referral, an outcome moved to another issue) moves the figures of
# the referral it leaves as well as of the one it joins.
OWNER_KEYS = {
    Consent: ("referral_id", "pk"),
    Case: ("referral_id", "pk"),
    ReferralStatusChange: ("referral_id", "pk"),
    FinancialOutcome: ("issue_id", "case__issues"),
    DecisionOutcome: ("issue_id", "case__issues"),
    WellbeingScore: ("case_id", "case"),
    ExperienceSurvey: ("case_id", "case"),
    OnwardReferral: ("referral_id", "pk"),
    Handover: ("referral_id", "pk"),
}
_LOADED = "_figures_owner_loaded"
_UNKNOWN = object()


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


def figures_remember_owner(sender, instance, **kwargs):
    """Keep the owner key as loaded (no query), so that a save can tell whether it changes."""
    instance.__dict__[_LOADED] = instance.__dict__.get(OWNER_KEYS[sender][0], _UNKNOWN)


def figures_on_owner_change(sender, instance, update_fields=None, **kwargs):
    """Before a save that changes the owner key, mark the referral the row leaves (the save's own receiver marks
    the one it joins). As loaded when the instance came from the database; otherwise (built by hand, or the key
    deferred) as the database holds it, in the same INSERT ... SELECT."""
    key, path = OWNER_KEYS[sender]
    if instance.pk is None or (update_fields is not None and not {key, key.removesuffix("_id")} & set(update_fields)):
        return
    loaded = _UNKNOWN if instance._state.adding else instance.__dict__.get(_LOADED, _UNKNOWN)
    if loaded == getattr(instance, key):
        return
    old = [loaded] if loaded is not _UNKNOWN else sender._base_manager.filter(pk=instance.pk).values(key)
    running_figures.mark_pending(Referral.objects.filter(**{f"{path}__in": old}))


def figures_after_owner_save(sender, instance, **kwargs):
    instance.__dict__[_LOADED] = getattr(instance, OWNER_KEYS[sender][0])


def figures_on_team_delete(sender, instance, **kwargs):
    """Deleting a team sets its referrals' team to none in one UPDATE that sends no save (on_delete=SET_NULL): mark
    them before it, while they still name the team."""
    running_figures.mark_pending(Referral.objects.filter(referring_team=instance))
