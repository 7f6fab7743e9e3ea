"""Writes for referrals, one module a concern: the states (transitions), saving and sending (saving), a
withdrawal of consent (consent). Callers import from here."""

from referrals.services.consent import consent_scope_change, consent_withdraw
from referrals.services.erasure import referrals_erase, register_eraser
from referrals.services.handover import (
    LinkRefused,
    handover_close,
    handover_decide,
    handover_for_token,
    handover_link_issue,
    handover_link_open,
    handover_make,
    handover_targets,
    link_refusal,
)
from referrals.services.saving import (
    DuplicateReferralError,
    ReferrerContext,
    StaleReferralError,
    referral_save,
    referrer_context,
)
from referrals.services.thread import (
    MAX_MESSAGE_CHARACTERS,
    MessageFileRefused,
    advice_side_recipients,
    referral_message_post,
)
from referrals.services.transitions import (
    CONSENT_WITHDRAWN_REASON,
    REASON_REQUIRED,
    STATUS_NOTICES,
    TRANSITIONS,
    allowed_targets,
    referral_set_case_status,
    referral_transition,
)

__all__ = [
    "CONSENT_WITHDRAWN_REASON",
    "REASON_REQUIRED",
    "STATUS_NOTICES",
    "TRANSITIONS",
    "MAX_MESSAGE_CHARACTERS",
    "DuplicateReferralError",
    "LinkRefused",
    "MessageFileRefused",
    "ReferrerContext",
    "StaleReferralError",
    "advice_side_recipients",
    "allowed_targets",
    "consent_scope_change",
    "consent_withdraw",
    "handover_close",
    "handover_decide",
    "handover_for_token",
    "handover_link_issue",
    "handover_link_open",
    "handover_make",
    "handover_targets",
    "link_refusal",
    "referral_message_post",
    "referral_save",
    "referral_set_case_status",
    "referral_transition",
    "referrals_erase",
    "referrer_context",
    "register_eraser",
]
