"""What stands in for text removed when a patient withdraws consent, in every app."""

REDACTED = "[redacted: consent withdrawn]"
