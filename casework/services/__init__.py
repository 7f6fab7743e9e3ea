"""Writes for casework. A case's state, its referral's state and the business status the referrer reads change
together, only through the case lifecycle (`lifecycle.case_transition` and its one TRANSITIONS table), which
moves the referral through `referrals.services.referral_transition`; triage's other moves call that directly.

Edits of a case, or of its issues, deadlines and appointments, take the `version` of the case their form
was loaded with (hjp.core.versioning): a stale version is refused with StaleCaseError and the version goes up
on every edit. Additions (notes, new appointments, issues, deadlines, evidence requests) overwrite nothing and
need none; they, and the forms' other writes, take the form's `submission_token` (hjp.core.submissions), so a
form sent twice saves once.
Callers use this package's names; the modules under it are how the code is kept to a readable size."""

from casework.services.cases import (
    case_close,
    case_note_add,
    case_note_mark_entered_in_error,
    case_reallocate,
    case_reopen,
    case_stop_after_consent_withdrawal,
    case_stop_for_consent_withdrawal,
    case_update,
)
from casework.services.common import StaleCaseError, new_case_reference
from casework.services.evidence import (
    EvidenceFileRefused,
    evidence_request_answer,
    evidence_request_create,
    evidence_request_decline,
    evidence_requests_cancel_for_consent,
)
from casework.services.lifecycle import (
    business_statuses_for,
    case_open,
    case_set_business_status,
    case_transition,
)
from casework.services.providers import (
    ImportResult,
    ShareConsent,
    onward_referral_make,
    provider_save,
    providers_import,
)
from casework.services.records import (
    appointment_book,
    appointment_mark_entered_in_error,
    appointment_update,
    case_issue_add,
    case_issue_resolve,
    case_issue_update,
    deadline_add,
    deadline_complete,
    deadline_due_date,
)
from casework.services.triage import referral_accept, referral_decline, referral_redirect
from hjp.core.redaction import REDACTED

__all__ = [
    "ImportResult",
    "REDACTED",
    "ShareConsent",
    "StaleCaseError",
    "appointment_book",
    "appointment_mark_entered_in_error",
    "appointment_update",
    "business_statuses_for",
    "case_close",
    "case_issue_add",
    "case_issue_resolve",
    "case_issue_update",
    "case_note_add",
    "case_note_mark_entered_in_error",
    "case_open",
    "case_reallocate",
    "case_reopen",
    "case_set_business_status",
    "case_stop_after_consent_withdrawal",
    "case_stop_for_consent_withdrawal",
    "case_transition",
    "case_update",
    "deadline_add",
    "deadline_complete",
    "deadline_due_date",
    "EvidenceFileRefused",
    "evidence_request_answer",
    "evidence_request_create",
    "evidence_request_decline",
    "evidence_requests_cancel_for_consent",
    "new_case_reference",
    "onward_referral_make",
    "provider_save",
    "providers_import",
    "referral_accept",
    "referral_decline",
    "referral_redirect",
]
