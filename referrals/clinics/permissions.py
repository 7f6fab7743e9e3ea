"""What a user may do with advice clinics. Who may see a session or a booking is the models' `visible_to`;
these are the actions on what the user already sees.

Publishing: a supervisor publishes and cancels sessions of any advisor of their advice organisation; an advisor
publishes and cancels their own (the advisor is the one who has to be there). Booking: a referrer of the
partnership's health organisations, when sending a referral. A booking is moved, cancelled or given an
interpreter by either side of its referral: the referrer side or the advice side."""

from hjp.accounts.roles import roles_for
from referrals import permissions as referral_permissions
from referrals.clinics.models import ClinicBooking, ClinicSession
from referrals.models import OPEN_STATUSES, Referral


def advice_org_of(session: ClinicSession) -> int:
    return session.partnership.advice_organisation_id


def is_advice_side(user, session: ClinicSession) -> bool:
    return advice_org_of(session) in roles_for(user).advice_org_ids


def can_publish(user) -> bool:
    return bool(roles_for(user).advice_org_ids)


def may_publish_for(user, *, advice_organisation_id: int, advisor) -> bool:
    """A supervisor of the organisation for any of its advisors; an advisor of it for themselves."""
    roles = roles_for(user)
    if advice_organisation_id in roles.supervisor_org_ids:
        return True
    return advice_organisation_id in roles.advisor_org_ids and advisor.pk == user.pk


def can_cancel_session(user, session: ClinicSession) -> bool:
    return not session.is_cancelled and may_publish_for(
        user, advice_organisation_id=advice_org_of(session), advisor=session.advisor
    )


def is_either_side(user, booking: ClinicBooking) -> bool:
    referral = booking.referral
    return referral_permissions.is_referrer_side(user, referral) or referral_permissions.is_advice_side(user, referral)


def can_change_booking(user, booking: ClinicBooking) -> bool:
    return not booking.is_cancelled and not booking.session.is_cancelled and is_either_side(user, booking)


def can_book_for(user, referral: Referral) -> bool:
    """Book a slot for a referral already sent (its booking cancelled, or none made): either side, while the
    referral is open and its patient's consent stands. The database refuses a second booking of the referral."""
    consent = getattr(referral, "consent", None)
    if referral.status not in OPEN_STATUSES or consent is None or consent.is_withdrawn:
        return False
    return referral_permissions.is_referrer_side(user, referral) or referral_permissions.is_advice_side(user, referral)
