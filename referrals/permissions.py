"""What a user may do with a referral. Who may see one is `Referral.objects.visible_to(user)`, written once in
the model's QuerySet; the checks here are for actions on a referral the user can already see."""

from django.db.models import QuerySet
from django.http import Http404

from hjp.accounts.roles import roles_for
from hjp.core.lookups import get_visible_or_404
from referrals.models import Referral, ReferralStatus, ThreadSide


def is_author(user, referral: Referral) -> bool:
    """The referrer who made it, while they are still a referrer of the organisation it was made in: the
    per-object form of the rule `Referral.objects.visible_to` writes for querysets. Authorship alone (a
    referrer who moved to another role or organisation, or left) gives nothing."""
    return referral.referrer_id == user.pk and referral.referring_organisation_id in roles_for(user).referrer_org_ids


def author_is_current(referral: Referral) -> bool:
    """Whether the referrer who made it is still a referrer of the organisation it was made in (`is_author`
    asked without the user at hand): messages about the referral go to them only then."""
    return Referral.objects.with_current_author().filter(pk=referral.pk).exists()


def is_referrer_side(user, referral: Referral) -> bool:
    """Its current author (`is_author`), or a referrer of the same organisation that shares visibility."""
    return is_author(user, referral) or (
        referral.status != ReferralStatus.DRAFT
        and referral.referring_organisation_id in roles_for(user).shared_visibility_org_ids
    )


def is_champion_for(user, referral: Referral) -> bool:
    """A practice champion of the organisation a sent referral was made in: they may read its outcome, not its
    patient's details (the per-object form of `Referral.objects.outcomes_visible_to`'s champion clause)."""
    return (
        referral.status != ReferralStatus.DRAFT
        and referral.referring_organisation_id in roles_for(user).champion_org_ids
    )


def may_read_outcome(user, referral: Referral) -> bool:
    """Who on the referrer's side reads what the advice achieved: the referrer's side (`is_referrer_side`) and
    the organisation's practice champions."""
    return is_referrer_side(user, referral) or is_champion_for(user, referral)


def is_advice_side(user, referral: Referral) -> bool:
    return referral.status != ReferralStatus.DRAFT and referral.advice_organisation_id in roles_for(user).advice_org_ids


def is_supervisor_for(user, referral: Referral) -> bool:
    return referral.advice_organisation_id in roles_for(user).supervisor_org_ids


def thread_side(user, referral: Referral) -> str | None:
    """The side of the referral's conversation the user speaks for (ThreadSide), or None: they have no part in
    it. A draft has no conversation; managers, funders and every other organisation never see one."""
    if referral.status == ReferralStatus.DRAFT:
        return None
    if is_advice_side(user, referral):
        return ThreadSide.ADVICE
    if is_referrer_side(user, referral):
        return ThreadSide.REFERRER
    return None


def thread_closed_reason(referral: Referral) -> str:
    """Why nobody may write on the referral's conversation any more ("" while they may): consent withdrawn, or the
    patient's details anonymised after the retention period."""
    consent = getattr(referral, "consent", None)
    if consent is not None and consent.is_withdrawn:
        return "The patient withdrew their consent, so this conversation is closed: no more messages can be sent."
    if referral.patient.redacted_at:
        return "The patient's details were anonymised after the retention period, so this conversation is closed."
    return ""


def can_write_message(user, referral: Referral) -> bool:
    return thread_side(user, referral) is not None and not thread_closed_reason(referral)


def get_thread_referral_for_user(user, pk, *, queryset: QuerySet[Referral] | None = None) -> Referral:
    """The referral whose conversation the user takes part in; 404 for anyone else, and for a draft, as for a
    referral that does not exist."""
    referral = get_referral_for_user(user, pk, queryset=queryset)
    if thread_side(user, referral) is None:
        raise Http404("No such referral.")
    return referral


def can_edit_draft(user, referral: Referral) -> bool:
    return referral.status == ReferralStatus.DRAFT and is_author(user, referral)


# Consent can be withdrawn while it is in use: while the referral waits or is worked (work stops), and once the
# case has closed (outcomes confirmed later are still reported back, and the case keeps the patient's details
# for years). A referral declined, redirected, cancelled or sent by mistake has no work and no feedback left to
# stop; what it holds goes with the retention period's anonymisation.
CONSENT_WITHDRAWABLE_STATUSES = frozenset(
    {
        ReferralStatus.SUBMITTED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.IN_PROGRESS,
        ReferralStatus.CLOSED,
    }
)


def is_handed_over(referral: Referral) -> bool:
    """Whether it was handed over to a partner (`referrals.models.Handover`), who may hold the patient's details:
    read from the `has_handovers` annotation where the caller made one (referrals.selectors.referral_detail)."""
    if hasattr(referral, "has_handovers"):
        return referral.has_handovers
    return referral.handovers.exists()


def can_withdraw_consent(user, referral: Referral) -> bool:
    consent = getattr(referral, "consent", None)
    if consent is None or consent.is_withdrawn:
        return False
    # A redirect ends the referral's own work, but one handed over to a partner is still in use there.
    if referral.status not in CONSENT_WITHDRAWABLE_STATUSES and not (
        referral.status == ReferralStatus.REDIRECTED and is_handed_over(referral)
    ):
        return False
    if referral.patient.redacted_at:  # anonymised after the retention period: nothing more is recorded about them
        return False
    return is_referrer_side(user, referral) or is_advice_side(user, referral)


def can_change_consent_scope(user, referral: Referral) -> bool:
    """Give scope 2 or 3 later, or withdraw one on its own, on the patient's word: while consent is in use (as
    for a withdrawal of all consent), by the referrer's side or the advice side."""
    return can_withdraw_consent(user, referral)


def get_referral_for_user(user, pk, *, queryset: QuerySet[Referral] | None = None) -> Referral:
    """The referral if the user may see it (`Referral.objects.visible_to`), narrowed further by `queryset`
    where a page needs it (triage: only what was sent to the user); 404 whether it is missing or forbidden."""
    qs = queryset if queryset is not None else Referral.objects.all()
    return get_visible_or_404(qs.visible_to(user), pk, "No such referral.")
