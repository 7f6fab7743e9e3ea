"""The referral vocabulary for page templates, so they compare states with the enums, not with spelled values."""

from referrals.models import CaseStatus, ReferralStatus, ThreadSide, Urgency


def vocabulary(request) -> dict:
    return {"CaseStatus": CaseStatus, "ReferralStatus": ReferralStatus, "ThreadSide": ThreadSide, "Urgency": Urgency}
