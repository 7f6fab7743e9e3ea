"""Who may see and do what with a referral. Every referral view and service asks here."""

from django.db.models import Q
from django.http import Http404

from hjp.accounts.roles import roles_for
from referrals.models import Referral, ReferralStatus


def visible_referrals_q(user) -> Q:
    """Referrals the user may see: their own; their organisation's where it shares visibility (not drafts);
    and, for advisors and supervisors, what was sent to their advice organisation (not drafts)."""
    roles = roles_for(user)
    q = Q(pk__in=[])
    if roles.is_referrer:
        q |= Q(referrer=user)
        if roles.shared_visibility_org_ids:
            q |= Q(referring_organisation_id__in=roles.shared_visibility_org_ids) & ~Q(status=ReferralStatus.DRAFT)
    if roles.advice_org_ids:
        q |= Q(advice_organisation_id__in=roles.advice_org_ids) & ~Q(status=ReferralStatus.DRAFT)
    return q


def can_view_referral(user, referral: Referral) -> bool:
    roles = roles_for(user)
    if referral.referrer_id == user.pk:
        return True
    if referral.status == ReferralStatus.DRAFT:
        return False
    if referral.referring_organisation_id in roles.shared_visibility_org_ids:
        return True
    return referral.advice_organisation_id in roles.advice_org_ids


def is_referrer_side(user, referral: Referral) -> bool:
    """The referrer who made it, or a referrer of the same organisation that shares visibility."""
    roles = roles_for(user)
    return referral.referrer_id == user.pk or (
        referral.status != ReferralStatus.DRAFT
        and referral.referring_organisation_id in roles.shared_visibility_org_ids
    )


def is_advice_side(user, referral: Referral) -> bool:
    return referral.status != ReferralStatus.DRAFT and referral.advice_organisation_id in roles_for(user).advice_org_ids


def is_supervisor_for(user, referral: Referral) -> bool:
    return referral.advice_organisation_id in roles_for(user).supervisor_org_ids


def can_create_referral(user) -> bool:
    return roles_for(user).is_referrer


def can_edit_draft(user, referral: Referral) -> bool:
    return referral.status == ReferralStatus.DRAFT and referral.referrer_id == user.pk


# Consent can be withdrawn while it is in use: while the referral waits or is worked (work stops), and once the
# case has closed (outcomes confirmed later are still reported back, and the case keeps the patient's details
# for years). A referral declined, redirected, cancelled or sent by mistake has no work and no feedback left to
# stop; what it holds goes with the retention period's anonymisation.
CONSENT_WITHDRAWABLE_STATUSES = frozenset({
    ReferralStatus.SUBMITTED, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS, ReferralStatus.CLOSED,
})


def can_withdraw_consent(user, referral: Referral) -> bool:
    consent = getattr(referral, "consent", None)
    if consent is None or consent.is_withdrawn or referral.status not in CONSENT_WITHDRAWABLE_STATUSES:
        return False
    return is_referrer_side(user, referral) or is_advice_side(user, referral)


def can_see_patient_details(user) -> bool:
    """Managers and funders see aggregates only; they reach no page with patient details."""
    roles = roles_for(user)
    return roles.is_referrer or roles.is_advisor


def get_referral_for_user(user, pk, *, queryset=None) -> Referral:
    """The referral, or 404 whether it is missing or the user may not see it."""
    qs = queryset if queryset is not None else Referral.objects.all()
    try:
        referral = qs.get(pk=pk)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise Http404("No such referral.") from None
    if not can_view_referral(user, referral):
        raise Http404("No such referral.")
    return referral
