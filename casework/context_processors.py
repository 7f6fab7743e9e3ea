"""The casework vocabulary for page templates, so they compare states with the enums, not with spelled values."""

from casework.models import CaseState, ClosureReason, EvidenceState, IssueStatus, PartnerSendStatus


def vocabulary(request) -> dict:
    return {
        "CaseState": CaseState,
        "ClosureReason": ClosureReason,
        "EvidenceState": EvidenceState,
        "IssueStatus": IssueStatus,
        "PartnerSendStatus": PartnerSendStatus,
    }
