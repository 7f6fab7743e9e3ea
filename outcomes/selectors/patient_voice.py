"""What the advice service sees of the patient's own link on a case: the agreement and the links sent."""

from casework.models import Case
from outcomes.models import PatientLink, PatientVoiceAgreement


def patient_voice_for_case(case: Case) -> dict:
    """The agreement (or None) and the links sent, newest first (two queries)."""
    return {
        "agreement": PatientVoiceAgreement.objects.filter(case=case).select_related("recorded_by").first(),
        "links": list(
            PatientLink.objects.filter(case=case).select_related("created_by").order_by("-created_at", "-id")
        ),
    }
