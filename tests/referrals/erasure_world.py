"""A patient with a whole history in every app, every value they or the people helping them typed unique
enough to be found anywhere, and the means to look for those values in every table and on disk."""

import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from pypdf import PdfWriter

from casework import services as casework_services
from casework.models import Appointment, Case, EvidenceRequest
from hjp.core.storage import encryption_keys
from hjp.notifications.models import MessageKind
from hjp.notifications.services import message_queue
from outcomes.corrections import outcome_mark_entered_in_error, outcome_update
from outcomes.models import CaseClosure, NonFinancialOutcome
from referrals import services as referral_services
from referrals.clinics import services as clinic_services
from referrals.models import ConsentScope, ProblemSubCategory, Referral
from tests import factories


def _document() -> bytes:
    """A real one-page PDF (the upload gate parses it) whose title names the patient, uncompressed."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "ZX-document: Zebedee Quillfeather, seen in clinic"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


DOCUMENT = _document()
DATE_OF_BIRTH = date(1961, 7, 23)

# Every value entered for the patient, in every form it could be stored or shown in. The free text carries
# "ZX-" tokens, so a leftover says which field it came from.
IDENTIFYING = [
    "Zebedee",
    "Quillfeather",
    "Z.Q.",
    "9434765919",
    "943 476 5919",
    "1961-07-23",
    "23/07/1961",
    "23 Jul 1961",
    "23 July 1961",
    "19610723",
    "07700 900461",
    "07700900461",
    "zq.patient@example.net",
    "Larkspur",
    "LS9 8QX",
    "LS98QX",
    "after the school run",
    "hearing loop",
    "Tigrinya",
    "Eritrean",
    "Marisol",
    "ZX-",
    # What the corrections added (each also caught by "ZX-"; named so a leftover says which it is).
    "ZX-correction-reason",
    "ZX-corrected-outcome",
    "ZX-note-in-error",
    "ZX-outcome-in-error",
    "ZX-appointment-in-error",
    "ZX-consent-change",
    "ZX-thread-referrer",
    "ZX-thread-advice",
    "ZX-clinic-cancelled",
]


@dataclass
class History:
    referral: Referral
    case: Case
    document: Path


def patient_history(private_media: Path) -> History:
    """A referral accepted and worked: notes, issues, appointments, deadlines, evidence answered with a
    document, an onward referral, outcomes, messages, a conversation with a document; an outcome corrected, an outcome, a note and an
    appointment marked entered in error, consent to outcome feedback withdrawn and given again on a representative's word, each
    with the reason typed. Returns it with the document's path on disk."""
    patient = factories.PatientFactory(
        given_name="Zebedee",
        family_name="Quillfeather",
        date_of_birth=DATE_OF_BIRTH,
        nhs_number="9434765919",
        address="17 Larkspur Crescent\nLeeds",
        postcode="LS9 8QX",
        phone="07700 900461",
        email="zq.patient@example.net",
        contact_times="Weekdays after the school run",
        may_leave_message=True,
        language="Tigrinya",
        interpreter_needed=True,
        access_needs="Needs a hearing loop",
        sex="female",
        ethnicity="Eritrean",
        deprivation_decile=2,
    )
    referral = factories.ReferralFactory(
        patient=patient,
        description="ZX-description: Zebedee's PIP was refused after her fall at 17 Larkspur Crescent.",
        known_deadline=timezone.localdate() + timedelta(days=20),
        known_deadline_kind="due",
        known_deadline_note="ZX-known-deadline: Quillfeather rent arrears hearing",
        duplicate_reason="ZX-duplicate: her sister Marisol referred her too",
        consent__given_by="representative",
        consent__representative_name="Marisol Quillfeather",
        consent__representative_authority="ZX-authority: Zebedee's sister, lasting power of attorney",
    )
    advisor = factories.advisor(referral.advice_organisation)
    case = casework_services.referral_accept(referral=referral, actor=advisor)  # a status notice, a deadline
    casework_services.case_note_add(
        case=case,
        actor=advisor,
        kind="call",
        text="ZX-first-call: Zebedee rang from 07700 900461.",
        occurred_at=timezone.now(),
        first_contact=True,
    )
    case.refresh_from_db()
    casework_services.case_update(
        case=case, actor=advisor, version=case.version, summary="ZX-summary: Zebedee, PIP appeal", case_status=""
    )
    issue = case.issues.get()
    issue.description = "ZX-issue: Quillfeather's PIP mobility points"
    issue.sub_category = ProblemSubCategory.objects.get(code="pip")
    issue.save()
    factories.AppointmentFactory(
        case=case, kind=Appointment.Kind.IN_PERSON, place="ZX-place: 17 Larkspur Crescent", note="ZX-appointment"
    )
    wrong_note = casework_services.case_note_add(
        case=case,
        actor=advisor,
        kind="call",
        text="ZX-wrong-note: meant for another patient",
        occurred_at=timezone.now(),
    )
    casework_services.case_note_mark_entered_in_error(
        note=wrong_note, actor=advisor, reason="ZX-note-in-error: Zebedee's sister Marisol rang, not Zebedee"
    )
    wrong_appointment = factories.AppointmentFactory(case=case, booked_by=advisor)
    case.refresh_from_db()
    casework_services.appointment_mark_entered_in_error(
        appointment=wrong_appointment,
        actor=advisor,
        version=case.version,
        reason="ZX-appointment-in-error: Zebedee is in hospital that week",
    )
    for given, note in ((False, "ZX-consent-change: Marisol says no reports"), (True, "ZX-consent-change: yes again")):
        referral_services.consent_scope_change(
            referral=referral,
            actor=referral.referrer,
            scope=ConsentScope.OUTCOME_FEEDBACK,
            given=given,
            method="phone",
            said_at=timezone.now(),
            given_by="representative",
            representative_name="Marisol Quillfeather",
            note=note,
        )
    factories.DeadlineFactory(case=case, title="ZX-deadline: ring Zebedee about the tribunal")
    evidence = casework_services.evidence_request_create(
        case=case,
        actor=advisor,
        what_is_needed="ZX-evidence-request: Zebedee's mobility since the fall",
        due_date=timezone.localdate() + timedelta(days=14),
    )
    casework_services.evidence_request_answer(
        evidence=evidence,
        actor=referral.referrer,
        text="ZX-evidence-answer: Zebedee uses two sticks",
        upload=SimpleUploadedFile("zebedee-quillfeather.pdf", DOCUMENT, content_type="application/pdf"),
    )
    factories.EvidenceRequestFactory(case=case, what_is_needed="ZX-evidence-open: GP letter for Quillfeather")
    factories.OnwardReferralFactory(case=case, note="ZX-onward: Quillfeather needs a housing solicitor")
    factories.FinancialOutcomeFactory(issue=issue)
    kept_flat = NonFinancialOutcome.objects.create(
        issue=issue, kind="eviction_prevented", note="ZX-outcome: Zebedee kept her flat", recorded_by=advisor
    )
    outcome_update(
        outcome=kept_flat,
        actor=advisor,
        version=kept_flat.version,
        reason="ZX-correction-reason: Zebedee's landlord wrote again",
        note="ZX-corrected-outcome: Zebedee kept her flat in Larkspur Crescent",
    )
    wrong_decision = factories.DecisionOutcomeFactory(issue=issue, recorded_by=advisor)
    outcome_mark_entered_in_error(
        outcome=wrong_decision,
        actor=advisor,
        version=wrong_decision.version,
        reason="ZX-outcome-in-error: that letter was Marisol's",
    )
    CaseClosure.objects.create(case=case, no_outcome_reason="", no_outcome_note="ZX-closure: Zebedee moved away")
    factories.WellbeingScoreFactory(case=case, score=17)
    # The conversation on the referral: a document from the referrer and the advisor's reply (each also tells
    # the other side in their inbox).
    referral_services.referral_message_post(
        referral=referral,
        actor=referral.referrer,
        text="ZX-thread-referrer: Zebedee has moved in with Marisol",
        upload=SimpleUploadedFile("zq-letter.pdf", DOCUMENT, content_type="application/pdf"),
    )
    referral_services.referral_message_post(
        referral=referral, actor=advisor, text="ZX-thread-advice: thank you, we will ring Quillfeather there"
    )
    # Advice clinic bookings: one cancelled with a reason (the advisor told), one booked with an interpreter.
    clinic = factories.ClinicSessionFactory(partnership=referral.partnership, advisor=advisor)
    clinic_services.clinic_booking_cancel(
        booking=factories.ClinicBookingFactory(session=clinic, slot=0, referral=referral),
        actor=referral.referrer,
        reason="ZX-clinic-cancelled: Zebedee has a scan that morning",
    )
    factories.ClinicBookingFactory(
        session=clinic, slot=1, referral=referral, interpreter="language", interpreter_language="Tigrinya"
    )
    message_queue(
        recipient=referral.referrer,
        kind=MessageKind.STATUS_NOTICE,
        key=f"test:about:{referral.pk}",
        subject=f"Referral {referral.reference}",
        body="ZX-message: about Zebedee Quillfeather, born 23 Jul 1961",
        referral_id=referral.pk,
    )
    document = private_media / EvidenceRequest.objects.get(pk=evidence.pk).answer_file.name
    assert _readable(document.read_bytes()) == DOCUMENT
    return History(referral=referral, case=case, document=document)


def leftovers_in_models() -> list[str]:
    """Every identifying value found in any field of any row of any model (Django's and the apps')."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model._base_manager.values_list("pk", *fields):
            text = " | ".join(str(value) for value in row[1:] if value is not None).casefold()
            found += [f"{model._meta.label} #{row[0]}: {needle}" for needle in IDENTIFYING if needle.casefold() in text]
    return found


def leftovers_in_tables() -> list[str]:
    """Every identifying value found in any row of any table, read as JSON straight from PostgreSQL (tables
    no model describes included)."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        tables = [name for (name,) in cursor.fetchall()]
        assert "referrals_patient" in tables and "audit_auditevent" in tables
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')
            for (row,) in cursor.fetchall():
                text = json.loads(row)
                flat = json.dumps(text, ensure_ascii=False).casefold()
                found += [f"{table}: {needle}" for needle in IDENTIFYING if needle.casefold() in flat]
    return found


def _readable(stored: bytes) -> bytes:
    """What a file holds: decrypted where it is an evidence file encrypted at rest (hjp.core.storage), so that
    encryption cannot hide a leftover from the search."""
    try:
        return encryption_keys()[0].decrypt(stored)
    except InvalidToken:
        return stored


def leftovers_on_disk(root: Path) -> list[str]:
    """Every file under `root` whose bytes, decrypted, hold an identifying value (or the document itself)."""
    found = []
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file():
            content = _readable(path.read_bytes()).decode("latin-1").casefold()
            found += [f"{path}: {needle}" for needle in IDENTIFYING if needle.casefold() in content]
    return found
