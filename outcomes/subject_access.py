"""A subject access export: everything held about one patient record as one zip, audited.

The zip holds `summary.html` (printable, for the person asking), `data.json` (the same, machine-readable: every
stored field of every row) and `documents/` (the evidence files and the conversation's documents as they were uploaded, decrypted). What is read
is outcomes.selectors.subject_access; who may is outcomes.permissions.
"""

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.storage import UnreadableFile, private_storage
from outcomes.selectors.subject_access import subject_access_data
from referrals.models import Patient

# The sections of the summary, in reading order: (key in the data, heading).
SECTIONS = [
    ("consent_changes", "Consent changes"),
    ("referral_timeline", "Referral timeline"),
    ("case_issues", "Case issues"),
    ("case_notes", "Case notes"),
    ("appointments", "Appointments"),
    ("deadlines", "Deadlines"),
    ("evidence_requests", "Evidence requests"),
    ("onward_referrals", "Onward referrals"),
    ("outcome_changes", "Outcome corrections"),
    ("wellbeing_scores", "Wellbeing scores"),
    ("patient_links", "Links sent to the patient for their own answers"),
    ("experience_survey", "The patient's own answers about the help"),
    ("case_studies", "Stories of the case for funders"),
    ("clinic_bookings", "Advice clinic bookings"),
    ("conversation", "The conversation on the referral"),
    ("handovers", "Handovers to partner services"),
    ("messages", "Messages about the referral"),
    ("audit_trail", "Who viewed or changed the record"),
]
SINGLE_SECTIONS = [
    ("patient", "Patient details"),
    ("referral", "Referral"),
    ("consent", "Consent"),
    ("case", "Case"),
    ("case_closure", "Case closure"),
    ("patient_voice_agreement", "Whether the patient agreed to be sent their own link"),
]
OUTCOME_SECTIONS = [("financial", "Money outcomes"), ("decision", "Decisions"), ("non_financial", "Other outcomes")]


def export_file_name(patient: Patient) -> str:
    return f"subject-access-patient-{patient.pk}-{timezone.localdate():%Y-%m-%d}.zip"


def _document(stored_name: str) -> bytes | None:
    """The decrypted bytes of an evidence file, or None when it cannot be read (missing, or no key opens it)."""
    try:
        with private_storage.open(stored_name) as document:
            return document.read()
    except (FileNotFoundError, UnreadableFile):
        return None


@transaction.atomic
def subject_access_export(*, patient: Patient, actor) -> bytes:
    """The zip of everything held about `patient`, with the audit entry of its export (action EXPORT)."""
    data = subject_access_data(patient)
    audit_record(actor=actor, action=AuditEvent.Action.EXPORT, obj=patient, summary="subject access export")
    singles = [(heading, data[key]) for key, heading in SINGLE_SECTIONS if data[key]]
    lists = [(heading, data[key]) for key, heading in SECTIONS[:8]]
    lists += [(heading, data["outcomes"][key]) for key, heading in OUTCOME_SECTIONS]
    lists += [(heading, data[key]) for key, heading in SECTIONS[8:]]
    html = render_to_string(
        "outcomes/subject_access_summary.html",
        {
            "patient": patient,
            "data": data,
            "singles": singles,
            "lists": lists,
            "exported_at": timezone.now(),
            "exported_by": actor,
        },
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.html", html)
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        for document in data["documents"]:
            content = _document(document["stored_name"])
            if content is None:
                archive.writestr(
                    f"documents/{document['file_name']}.unreadable.txt",
                    "This document is recorded but its file could not be read (missing, or no key decrypts it).",
                )
            else:
                archive.writestr(f"documents/{document['file_name']}", content)
    return buffer.getvalue()
