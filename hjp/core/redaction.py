"""Why a patient's details were removed, and what stands in for the text removed, in every app.

Both reasons go through one code path (`referrals.services.erasure.referrals_erase`): only the words that
stand in for what was removed differ."""

from django.db import models


class ErasureReason(models.TextChoices):
    CONSENT_WITHDRAWN = "consent_withdrawn", "consent withdrawn"
    RETENTION = "retention", "anonymised after the retention period"


# What a page shows where free text about the patient was.
_PLACEHOLDERS = {
    ErasureReason.CONSENT_WITHDRAWN: "[redacted: consent withdrawn]",
    ErasureReason.RETENTION: "[removed after the retention period]",
}
REDACTED = _PLACEHOLDERS[ErasureReason.CONSENT_WITHDRAWN]

# What a message in the inbox says once its content about the patient is removed.
_MESSAGE_BODIES = {
    ErasureReason.CONSENT_WITHDRAWN: "This message was removed because the patient withdrew their consent.",
    ErasureReason.RETENTION: "This message was removed: the patient's details were anonymised after the "
    "retention period.",
}


def placeholder(reason: str) -> str:
    return _PLACEHOLDERS[ErasureReason(reason)]


def message_body(reason: str) -> str:
    return _MESSAGE_BODIES[ErasureReason(reason)]
