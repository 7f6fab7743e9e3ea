"""Subject access: finding a patient, everything held about them, and who has looked at their record.

Read here because outcomes is the one app that may import all the others (referrals <- casework <- outcomes).
A patient record is one referral's patient; what hangs off it is the referral (with its consent and timeline),
who referred them (the referring practitioner, on the referral's row), its case (notes, appointments, deadlines,
evidence requests, issues and their outcomes, corrections, whether the patient agreed to be sent their own link,
the stories of the case for funders as stored: a withdrawn one holds the redaction placeholder), the
conversation on the referral (its documents too), its handovers to partners, the inbox messages about the referral
and the audit entries naming any of those objects. A removed (anonymised) patient
is exported as it is held: the placeholders and what erasure keeps.
"""

from datetime import date

from django.db.models import FileField, Model, Q, QuerySet

from casework.models import Appointment, Case, CaseIssue, CaseNote, Deadline, EvidenceRequest, OnwardReferral
from hjp.audit.models import AuditEvent
from hjp.core.nhs_number import normalise_nhs_number
from hjp.notifications.models import Message
from outcomes.models import (
    CaseClosure,
    CaseStudy,
    DecisionOutcome,
    ExperienceSurvey,
    FinancialOutcome,
    NonFinancialOutcome,
    OutcomeChange,
    PatientLink,
    PatientVoiceAgreement,
    WellbeingScore,
)
from referrals.clinics.models import ClinicBooking
from referrals.models import (
    Consent,
    ConsentChange,
    Handover,
    Patient,
    Referral,
    ReferralMessage,
    ReferralStatusChange,
    ReferringPractitioner,
)

# The most a search lists: a name and date of birth, or an NHS number, names a handful of records at most.
SEARCH_LIMIT = 50


def patients_matching(
    *, nhs_number: str = "", given_name: str = "", family_name: str = "", date_of_birth: date | None = None
) -> QuerySet[Patient]:
    """Patient records with this NHS number, or with this name (either part, case-insensitive) and date of
    birth. Every patient, whoever referred them: this is for the data protection role only."""
    if nhs_number:
        matching = Q(nhs_number=normalise_nhs_number(nhs_number))
    else:
        matching = Q(
            given_name__iexact=given_name.strip(), family_name__iexact=family_name.strip(), date_of_birth=date_of_birth
        )
    return (
        Patient.objects.filter(matching)
        .select_related("referral", "referral__advice_organisation", "referral__referring_organisation")
        .order_by("family_name", "given_name", "pk")[:SEARCH_LIMIT]
    )


def subject_patient(pk) -> Patient:
    """The patient record with its referral, for the subject access pages (raises Patient.DoesNotExist)."""
    return Patient.objects.select_related("referral", "referral__advice_organisation").get(pk=pk)


def _referral_of(patient: Patient) -> Referral | None:
    try:
        return patient.referral
    except Referral.DoesNotExist:
        return None


def patient_audit_trail(patient: Patient) -> QuerySet[AuditEvent]:
    """Every audit entry about this patient's record: the referral or anything hanging off it (its patient,
    consent, case and all on the case, outcomes, messages), by the patient record each entry names
    (AuditEvent.referral_ref, read from audit_referral_idx in its order); newest first. One query."""
    referral = _referral_of(patient)
    if referral is None:
        naming = Q(object_type="referrals.patient", object_id=str(patient.pk))
    else:
        naming = Q(referral_ref=referral.pk)
    return AuditEvent.objects.filter(naming).select_related("actor").order_by("-at", "-id")


def who_looked(patient: Patient, *, since: date | None = None, until: date | None = None) -> QuerySet[AuditEvent]:
    """The patient's audit trail between two dates (local days, both included)."""
    entries = patient_audit_trail(patient)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries


def _row(obj: Model) -> dict:
    """Every stored field of one row as the database holds it (a file as its stored name)."""
    row = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if isinstance(field, FileField):
            value = value.name or ""
        row[field.attname] = value
    return row


def _rows(queryset: QuerySet) -> list[dict]:
    return [_row(obj) for obj in queryset]


def audit_entry_row(entry: AuditEvent) -> dict:
    return {
        "at": entry.at,
        "who": entry.actor.get_full_name() or entry.actor.email if entry.actor else "(system)",
        "actor_id": entry.actor_id,
        "action": entry.get_action_display(),
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        "ip_address": entry.ip_address,
        "path": entry.path,
    }


def _conversation_row(message: ReferralMessage) -> dict:
    """A message of the conversation on the referral: every stored field, with who wrote it and the name of its
    document (the file itself is in documents/)."""
    return {
        **_row(message),
        "author_name": message.author.get_full_name(),
        "attachment_name": message.attachment.name.rsplit("/", 1)[-1] if message.attachment else "",
    }


def _handover_row(handover: Handover) -> dict:
    """A handover of the referral to a partner: every stored field (but the secret of its download link, a
    credential rather than information about the patient), with the partner's name and the state in words."""
    row = {key: value for key, value in _row(handover).items() if key != "link_nonce"}
    partner = handover.to_organisation.name if handover.to_organisation else f"{handover.provider_name} (outside hjp)"
    return {**row, "partner": partner, "state_text": handover.get_state_display()}


def _name(user) -> str:
    return (user.get_full_name() or user.email) if user else ""


def _practitioner_fields(practitioner: ReferringPractitioner | None) -> dict:
    """Who referred the patient, as the referral names them (the referral's row carries it)."""
    fields = {
        f"referring_practitioner_{field}": getattr(practitioner, field) if practitioner else ""
        for field in ("name", "role", "identifier_system", "identifier")
    }
    fields["referring_practitioner_register"] = practitioner.register_label if practitioner else ""
    return fields


def _case_study_row(story: CaseStudy) -> dict:
    """A story of the case as stored (a withdrawn one holds the redaction placeholder), with who recorded the
    patient's agreement and the state and agreement method in words."""
    return {
        **_row(story),
        "agreement_recorded_by_name": _name(story.agreement_recorded_by),
        "agreement_method_text": story.get_agreement_method_display(),
        "state_text": story.get_state_display(),
    }


def subject_access_data(patient: Patient) -> dict:
    """Everything held about one patient record, section by section, as plain values (JSON-ready with
    DjangoJSONEncoder). `documents` lists the evidence files and the conversation's documents to add to an export as (stored name, file name)."""
    referral = _referral_of(patient)
    data = {
        "patient": _row(patient),
        "removed": patient.removal_notice,
        "referral": None,
        "categories": [],
        "consent": None,
        "consent_changes": [],
        "referral_timeline": [],
        "case": None,
        "case_issues": [],
        "case_notes": [],
        "appointments": [],
        "deadlines": [],
        "evidence_requests": [],
        "onward_referrals": [],
        "clinic_bookings": [],
        "conversation": [],
        "handovers": [],
        "outcomes": {"financial": [], "decision": [], "non_financial": []},
        "outcome_changes": [],
        "wellbeing_scores": [],
        "patient_links": [],
        "experience_survey": [],
        "case_closure": None,
        "patient_voice_agreement": None,
        "case_studies": [],
        "messages": [],
        "audit_trail": [audit_entry_row(entry) for entry in patient_audit_trail(patient)],
        "documents": [],
    }
    if referral is None:
        return data
    practitioner = ReferringPractitioner.objects.filter(referral=referral).first()
    data["referral"] = {**_row(referral), **_practitioner_fields(practitioner)}
    data["categories"] = list(referral.categories.values_list("name", flat=True))
    consent = Consent.objects.filter(referral=referral).first()
    if consent is not None:
        data["consent"] = _row(consent)
        data["consent_changes"] = _rows(ConsentChange.objects.filter(consent=consent).order_by("pk"))
    data["referral_timeline"] = _rows(ReferralStatusChange.objects.filter(referral=referral).order_by("pk"))
    data["onward_referrals"] = _rows(OnwardReferral.objects.filter(referral=referral).order_by("pk"))
    data["clinic_bookings"] = _rows(ClinicBooking.objects.filter(referral=referral).order_by("pk"))
    data["messages"] = _rows(Message.objects.filter(referral_id=referral.pk).order_by("created_at", "pk"))
    thread = list(
        ReferralMessage.objects.filter(referral=referral).select_related("author").order_by("created_at", "pk")
    )
    data["conversation"] = [_conversation_row(message) for message in thread]
    data["handovers"] = [
        _handover_row(handover)
        for handover in Handover.objects.filter(referral=referral).select_related("to_organisation").order_by("pk")
    ]
    data["documents"] = [
        {"stored_name": m.attachment.name, "file_name": f"message-{m.pk}-{m.attachment.name.rsplit('/', 1)[-1]}"}
        for m in thread
        if m.attachment
    ]
    case = Case.objects.filter(referral=referral).first()
    if case is None:
        return data
    data["case"] = _row(case)
    data["case_issues"] = _rows(CaseIssue.objects.filter(case=case).order_by("pk"))
    data["case_notes"] = _rows(CaseNote.objects.filter(case=case).order_by("pk"))
    data["appointments"] = _rows(Appointment.objects.filter(case=case).order_by("pk"))
    data["deadlines"] = _rows(Deadline.objects.filter(case=case).order_by("pk"))
    evidence = list(EvidenceRequest.objects.filter(case=case).order_by("pk"))
    data["evidence_requests"] = _rows(evidence)
    data["documents"] += [
        {"stored_name": e.answer_file.name, "file_name": f"evidence-{e.pk}-{e.answer_file.name.rsplit('/', 1)[-1]}"}
        for e in evidence
        if e.answer_file
    ]
    data["outcomes"] = {
        "financial": _rows(FinancialOutcome.objects.filter(issue__case=case).order_by("pk")),
        "decision": _rows(DecisionOutcome.objects.filter(issue__case=case).order_by("pk")),
        "non_financial": _rows(NonFinancialOutcome.objects.filter(issue__case=case).order_by("pk")),
    }
    data["outcome_changes"] = _rows(OutcomeChange.objects.filter(case=case).order_by("pk"))
    data["wellbeing_scores"] = _rows(WellbeingScore.objects.filter(case=case).order_by("pk"))
    # The links sent to the patient, without what could rebuild one (its nonce and its token's hash).
    data["patient_links"] = [
        {key: value for key, value in row.items() if key not in ("nonce", "token_hash")}
        for row in _rows(PatientLink.objects.filter(case=case).order_by("pk"))
    ]
    data["experience_survey"] = _rows(ExperienceSurvey.objects.filter(case=case).order_by("pk"))
    closure = CaseClosure.objects.filter(case=case).first()
    data["case_closure"] = _row(closure) if closure else None
    agreement = PatientVoiceAgreement.objects.filter(case=case).select_related("recorded_by").first()
    if agreement is not None:
        data["patient_voice_agreement"] = {**_row(agreement), "recorded_by_name": _name(agreement.recorded_by)}
    stories = CaseStudy.objects.filter(case=case).select_related("agreement_recorded_by").order_by("pk")
    data["case_studies"] = [_case_study_row(story) for story in stories]
    return data
