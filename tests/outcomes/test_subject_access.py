"""Subject access: the data protection role (permission referrals.subject_access) finds a patient by POST and
downloads one zip of everything held about them; it and the advice organisation's supervisors see who has
looked at the patient's record. Everyone else: 404."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from casework import services as casework_services
from hjp.accounts.models import Role
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.redaction import ErasureReason
from hjp.notifications import services as notification_services
from hjp.notifications.models import Message, MessageKind
from referrals import services as referral_services
from referrals.services.erasure import referrals_erase
from tests import factories
from tests.support.documents import pdf_bytes

NHS_NUMBER = "9434765919"
NOTE_TEXT = "Spoke to the patient about the PIP review letter."
MESSAGE_SUBJECT = "Outcome of your referral"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"


@pytest.fixture
def dpo(db):
    """A data protection officer: no membership, only the permission an admin grants."""
    user = factories.UserFactory(full_name="Dana Protection")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="referrals", codename="subject_access"))
    return user


@pytest.fixture
def held(referral, advisor_user, referrer_user, client, django_capture_on_commit_callbacks):
    """A referral with everything a patient record can gather: a case, a note, an outcome, an answered evidence
    request with a real PDF, a message about the referral and an advisor's view of the referral."""
    patient = referral.patient
    patient.nhs_number = NHS_NUMBER
    patient.save()
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    casework_services.case_note_add(
        case=case, actor=advisor_user, kind="call", text=NOTE_TEXT, occurred_at=timezone.now(), first_contact=True
    )
    issue = factories.CaseIssueFactory(case=case)
    outcome = factories.FinancialOutcomeFactory(issue=issue, recurring_amount=123)
    evidence = factories.EvidenceRequestFactory(case=case, requested_from=referrer_user)
    casework_services.evidence_request_answer(
        evidence=evidence, actor=referrer_user, upload=SimpleUploadedFile("letter.pdf", pdf_bytes())
    )
    with django_capture_on_commit_callbacks(execute=True):
        notification_services.message_queue(
            recipient=referrer_user,
            kind=MessageKind.OUTCOME_REPORT,
            key="subject-access-test",
            subject=MESSAGE_SUBJECT,
            body="The case has closed.",
            referral_id=referral.pk,
        )
    client.force_login(advisor_user)
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    client.logout()
    return {"patient": patient, "referral": referral, "case": case, "outcome": outcome, "evidence": evidence}


def _search(client, **fields):
    return client.post(reverse("outcomes:subject_access"), fields)


def _dob(day, month, year):
    return {"date_of_birth_day": day, "date_of_birth_month": month, "date_of_birth_year": year}


# --- the gate ---------------------------------------------------------------------------------------------


def test_without_the_permission_every_subject_access_page_is_404(
    as_user, referral, referrer_user, advisor_user, supervisor_user, manager_user, funder_user
):
    patient = referral.patient
    staff_without_it = factories.UserFactory(is_staff=True)
    for user in (referrer_user, advisor_user, supervisor_user, manager_user, funder_user, staff_without_it):
        client = as_user(user)
        assert client.get(reverse("outcomes:subject_access")).status_code == 404, user
        assert _search(client, nhs_number=NHS_NUMBER).status_code == 404, user
        export = client.post(reverse("outcomes:subject_access_export", args=[patient.pk]))
        assert export.status_code == 404, user
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_who_looked_is_for_the_role_and_the_supervisors_of_the_advice_organisation_only(
    as_user, referral, referrer_user, advisor_user, supervisor_user, manager_user, funder_user, dpo
):
    url = reverse("outcomes:who_looked", args=[referral.patient.pk])
    other_supervisor = factories.advisor(factories.AdviceOrganisationFactory(), supervisor=True)
    colleague = factories.referrer(referral.referring_organisation)
    for user in (referrer_user, colleague, advisor_user, other_supervisor, manager_user, funder_user):
        assert as_user(user).get(url).status_code == 404, user
    assert as_user(supervisor_user).get(url).status_code == 200
    assert as_user(dpo).get(url).status_code == 200
    assert as_user(dpo).get(reverse("outcomes:who_looked", args=[999999])).status_code == 404


def test_the_permission_is_granted_in_the_admin_and_is_the_home_of_a_user_with_no_other_role(as_user, dpo):
    client = as_user(dpo)
    assert client.get(reverse("outcomes:subject_access")).status_code == 200
    assert client.get(reverse("home"))["Location"] == reverse("outcomes:subject_access")
    assert Permission.objects.get(codename="subject_access").name.startswith("Can find any patient")


# --- finding the patient ----------------------------------------------------------------------------------


def test_find_by_nhs_number_by_post_with_the_number_in_no_url(as_user, dpo, held):
    client = as_user(dpo)
    response = _search(client, nhs_number="943 476 5919")
    assert response.status_code == 200  # the answer to the POST itself: no redirect carrying the number
    html = response.content.decode()
    assert held["referral"].reference in html
    assert held["patient"].full_name in html
    assert "1 patient record found" in html
    for url in re.findall(r'(?:href|action)="([^"]*)"', html):
        assert NHS_NUMBER not in url.replace(" ", "") and "943" not in url, url
    search = AuditEvent.objects.get(actor=dpo, action=AuditEvent.Action.LIST)
    assert NHS_NUMBER not in search.summary and NHS_NUMBER not in search.path


def test_find_by_name_and_date_of_birth(as_user, dpo, held):
    patient = held["patient"]
    client = as_user(dpo)
    fields = {"given_name": patient.given_name.upper(), "family_name": patient.family_name.lower()}
    response = _search(client, **fields, **_dob("17", "5", "1960"))
    assert held["referral"].reference in response.content.decode()
    other_day = _search(client, **fields, **_dob("18", "5", "1960")).content.decode()
    assert "0 patient records found" in other_day and held["referral"].reference not in other_day


def test_a_search_missing_terms_says_what_to_enter_and_keeps_what_was_typed(as_user, dpo, held):
    client = as_user(dpo)
    assert "Enter an NHS number, or a first name, last name and date of birth" in _search(client).content.decode()
    partial = _search(client, given_name="Ann", family_name="Example").content.decode()
    assert "Enter the date of birth, or search by NHS number" in partial
    assert 'value="Example"' in partial
    bad = _search(client, nhs_number="123").content.decode()
    assert "Enter an NHS number in the correct format" in bad
    impossible = _search(client, given_name="Ann", family_name="Example", **_dob("31", "2", "1980")).content.decode()
    assert "real date" in impossible


# --- the export -------------------------------------------------------------------------------------------


def _export(client, patient) -> zipfile.ZipFile:
    response = client.post(reverse("outcomes:subject_access_export", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="subject-access-patient-')
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_zip_holds_a_summary_the_data_and_the_original_documents(as_user, dpo, held, supervisor_user):
    archive = _export(as_user(dpo), held["patient"])
    names = archive.namelist()
    assert {"summary.html", "data.json"} <= set(names)
    data = json.loads(archive.read("data.json"))
    assert data["referral"]["reference"] == held["referral"].reference
    assert data["patient"]["nhs_number"] == NHS_NUMBER
    assert NOTE_TEXT in [note["text"] for note in data["case_notes"]]
    assert [o["recurring_amount"] for o in data["outcomes"]["financial"]] == ["123.00"]
    assert MESSAGE_SUBJECT in [m["subject"] for m in data["messages"]]
    assert data["consent"] is not None and data["referral_timeline"]
    viewed = [e for e in data["audit_trail"] if e["action"] == "Viewed" and e["object_type"] == "referrals.referral"]
    assert viewed and viewed[0]["object_id"] == str(held["referral"].pk)
    html = archive.read("summary.html").decode()
    assert held["patient"].full_name in html and NOTE_TEXT in html
    documents = [name for name in names if name.startswith("documents/")]
    assert len(documents) == 1 and documents[0].endswith(".pdf")
    assert archive.read(documents[0]) == pdf_bytes()  # decrypted: the bytes the referrer uploaded


def test_the_export_is_audited(as_user, dpo, held):
    _export(as_user(dpo), held["patient"])
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert export.actor == dpo
    assert (export.object_type, export.object_id) == ("referrals.patient", str(held["patient"].pk))


def test_the_export_is_post_only(as_user, dpo, held):
    response = as_user(dpo).get(reverse("outcomes:subject_access_export", args=[held["patient"].pk]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_anonymised_patient_exports_what_is_still_held(as_user, dpo, held):
    referrals_erase(referral_ids=[held["referral"].pk], reason=ErasureReason.CONSENT_WITHDRAWN)
    patient = held["patient"]
    patient.refresh_from_db()
    archive = _export(as_user(dpo), patient)
    data = json.loads(archive.read("data.json"))
    assert data["removed"].startswith("Details removed (consent withdrawn")
    assert data["referral"]["reference"] == held["referral"].reference
    assert "Details removed" in archive.read("summary.html").decode()


# --- who has looked ---------------------------------------------------------------------------------------


def test_who_looked_lists_who_what_when_and_from_where_and_is_audited(as_user, dpo, held, advisor_user):
    client = as_user(dpo)
    url = reverse("outcomes:who_looked", args=[held["patient"].pk])
    html = client.get(url, REMOTE_ADDR="192.0.2.7").content.decode()
    assert advisor_user.full_name in html
    assert f"/referrals/{held['referral'].pk}/" in html  # the page they looked at
    assert "Viewed" in html
    looked = AuditEvent.objects.get(actor=dpo, action=AuditEvent.Action.VIEW)
    assert (looked.object_type, looked.object_id) == ("referrals.patient", str(held["patient"].pk))
    assert "192.0.2.7" in client.get(url, REMOTE_ADDR="192.0.2.7").content.decode()  # the first look, listed


def test_who_looked_names_whoever_opened_an_inbox_message_about_the_patient(as_user, dpo, held, referrer_user, client):
    message = Message.objects.get(referral_id=held["referral"].pk, subject=MESSAGE_SUBJECT)
    client.force_login(referrer_user)
    assert client.get(reverse("notifications:detail", args=[message.pk])).status_code == 200
    client.logout()
    page = as_user(dpo).get(reverse("outcomes:who_looked", args=[held["patient"].pk])).content.decode()
    # The referrer is listed for the evidence they sent anyway: the message's own page shows this entry is there.
    assert reverse("notifications:detail", args=[message.pk]) in page and escape(referrer_user.full_name) in page


def test_the_data_protection_role_alone_must_use_a_second_factor(dpo):
    from tests.support.auth import Client

    browser = Client()
    browser.force_login(dpo, second_factor=False)
    response = browser.get(reverse("outcomes:subject_access"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:enrol"))


def test_who_looked_filters_by_date_and_explains_bad_dates(as_user, supervisor_user, held, advisor_user):
    with time_machine.travel(timezone.now() - timedelta(days=400)):  # audit entries are append-only
        old_view = AuditEvent.objects.create(
            actor=advisor_user,
            action=AuditEvent.Action.VIEW,
            object_type="casework.case",
            object_id=str(held["case"].pk),
            referral_ref=held["case"].referral_id,  # as audit_record writes it
            path="/a-year-and-more-ago/",
        )
    client = as_user(supervisor_user)
    url = reverse("outcomes:who_looked", args=[held["patient"].pk])
    a_year_ago = timezone.localdate() - timedelta(days=365)
    recent = client.get(
        url, {"since_day": a_year_ago.day, "since_month": a_year_ago.month, "since_year": a_year_ago.year}
    )
    assert old_view.path not in recent.content.decode()
    everything = client.get(url).content.decode()
    assert old_view.path in everything
    bad = client.get(url, {"since_day": "31", "since_month": "2", "since_year": "2026"}).content.decode()
    assert "The date must be a real date" in bad and "Correct the dates" in bad
    assert 'value="31"' in bad
    backwards = client.get(
        url,
        {"since_day": "2", "since_month": "1", "since_year": "2026", "until_day": "1", "until_month": "1"}
        | {"until_year": "2026"},
    ).content.decode()
    assert "The end date must be the same as or after the start date" in backwards


# The session and the user (with its inbox count and second-factor devices), the user's roles, the patient, the page's own audit entry and the page of
# entries with their actors (one query, by the patient record each entry names; no count of them all).
WHO_LOOKED_QUERIES = 8


def test_who_looked_makes_the_same_number_of_queries_for_few_and_many_entries(
    as_user, dpo, held, django_assert_num_queries
):
    client = as_user(dpo)
    url = reverse("outcomes:who_looked", args=[held["patient"].pk])
    client.get(url)  # warm the session
    with django_assert_num_queries(WHO_LOOKED_QUERIES):
        assert client.get(url).status_code == 200
    for _ in range(30):
        user = factories.advisor(held["referral"].advice_organisation)
        audit_record(actor=user, action=AuditEvent.Action.VIEW, obj=held["case"])
    with django_assert_num_queries(WHO_LOOKED_QUERIES):
        response = client.get(url)
    assert response.content.decode().count("casework.case") >= 30


def test_the_case_page_links_its_supervisors_to_who_looked(as_user, held, supervisor_user, advisor_user):
    url = reverse("outcomes:who_looked", args=[held["patient"].pk])
    case_page = reverse("casework:case", args=[held["case"].pk])
    assert url in as_user(supervisor_user).get(case_page).content.decode()
    assert url not in as_user(advisor_user).get(case_page).content.decode()


def test_a_supervisor_who_moved_away_no_longer_sees_who_looked(as_user, supervisor_user, held):
    supervisor_user.memberships.filter(role=Role.SUPERVISOR).update(organisation=factories.AdviceOrganisationFactory())
    url = reverse("outcomes:who_looked", args=[held["patient"].pk])
    assert as_user(supervisor_user).get(url).status_code == 404


def test_the_export_holds_the_clinic_bookings_and_their_audit_entries(as_user, dpo, held):
    session = factories.ClinicSessionFactory(partnership=held["referral"].partnership)
    booking = factories.ClinicBookingFactory(
        session=session, referral=held["referral"], interpreter="language", interpreter_language="Tigrinya"
    )
    audit_record(actor=held["referral"].referrer, action=AuditEvent.Action.CREATE, obj=booking)
    archive = _export(as_user(dpo), held["patient"])
    data = json.loads(archive.read("data.json"))
    assert [(b["id"], b["interpreter_language"]) for b in data["clinic_bookings"]] == [(booking.pk, "Tigrinya")]
    assert any(e["object_type"] == "referrals.clinicbooking" for e in data["audit_trail"])
    assert "Advice clinic bookings (1)" in archive.read("summary.html").decode()


def test_the_export_holds_the_conversation_with_its_documents_and_the_handovers(
    as_user, dpo, held, referrer_user, advisor_user
):
    referral = held["referral"]
    referral_services.referral_message_post(
        referral=referral,
        actor=referrer_user,
        text="Her new decision letter came today.",
        upload=SimpleUploadedFile("decision-letter.pdf", pdf_bytes()),
    )
    referral_services.referral_message_post(referral=referral, actor=advisor_user, text="Thank you, we will read it.")
    partner = factories.AdviceOrganisationFactory(name="Northside Law Centre")
    handover = referral_services.handover_make(
        referral=referral,
        actor=advisor_user,
        provider_name="Northside Law Centre",
        to_organisation=partner,
        consent_given_by="patient",
        consent_method="phone",
        consent_said_at=timezone.now(),
    )
    referral_services.handover_decide(handover=handover, actor=factories.advisor(partner), accept=True, note="Yes")

    archive = _export(as_user(dpo), held["patient"])
    data = json.loads(archive.read("data.json"))
    conversation = [(m["text"], m["author_name"], m["attachment_name"]) for m in data["conversation"]]
    assert conversation[0][0] == "Her new decision letter came today."
    assert conversation[0][1] == referrer_user.get_full_name() and conversation[0][2].endswith(".pdf")
    assert conversation[1] == ("Thank you, we will read it.", advisor_user.get_full_name(), "")
    [row] = data["handovers"]
    assert (row["partner"], row["state"], row["state_text"]) == (
        "Northside Law Centre",
        "accepted",
        "Accepted by the partner",
    )
    assert row["made_at"] and row["decided_at"] and row["consent_given_by"] == "patient" and "link_nonce" not in row
    html = archive.read("summary.html").decode()
    assert "The conversation on the referral (2)" in html and "Her new decision letter came today." in html
    assert "Handovers to partner services (1)" in html and "Northside Law Centre" in html
    documents = sorted(name for name in archive.namelist() if name.startswith("documents/message-"))
    assert len(documents) == 1 and archive.read(documents[0]) == pdf_bytes()


def _who_referred_agreed_and_stories(held, advisor_user):
    """The referring practitioner, the agreement to the patient's own link, and two stories of the case: one as
    written, one withdrawn (its text erased)."""
    from outcomes.case_studies import case_study_withdraw
    from outcomes.models import CaseStudy
    from outcomes.patient_voice import patient_voice_agreement_record
    from referrals.models import ReferringPractitioner

    ReferringPractitioner.objects.create(
        referral=held["referral"],
        name="Dr Asha Patel",
        role="General practitioner",
        identifier_system="https://fhir.hl7.org.uk/Id/gmc-number",
        identifier="7654321",
    )
    patient_voice_agreement_record(case=held["case"], actor=advisor_user, agreed=True)
    stories = [
        CaseStudy.objects.create(
            case=held["case"],
            author=advisor_user,
            title=title,
            story=f"{title}: the story as written.",
            outcome_summary="Her PIP award was restored.",
            agreement_method=method,
            agreement_recorded_by=advisor_user,
            agreement_recorded_at=timezone.now(),
        )
        for title, method in (("Back on her feet", "written"), ("A second story", "verbal"))
    ]
    case_study_withdraw(story=stories[1], actor=advisor_user)
    return stories


def test_the_export_holds_who_referred_the_patient_s_own_link_agreement_and_the_stories_of_the_case(
    as_user, dpo, held, advisor_user
):
    from hjp.core.redaction import placeholder

    kept, withdrawn = _who_referred_agreed_and_stories(held, advisor_user)
    archive = _export(as_user(dpo), held["patient"])
    data = json.loads(archive.read("data.json"))
    referral = data["referral"]
    assert (referral["referring_practitioner_name"], referral["referring_practitioner_role"]) == (
        "Dr Asha Patel",
        "General practitioner",
    )
    assert referral["referring_practitioner_identifier"] == "7654321"
    assert referral["referring_practitioner_identifier_system"] == "https://fhir.hl7.org.uk/Id/gmc-number"
    agreement = data["patient_voice_agreement"]
    assert agreement["agreed"] is True
    assert agreement["recorded_by_id"] == advisor_user.pk
    assert agreement["recorded_by_name"] == advisor_user.get_full_name()
    assert agreement["created_at"] and agreement["updated_at"]
    stories = {story["id"]: story for story in data["case_studies"]}
    assert stories[kept.pk]["story"] == "Back on her feet: the story as written."
    assert (stories[kept.pk]["state_text"], stories[kept.pk]["agreement_method_text"]) == (
        "Waiting for review",
        "In writing",
    )
    assert stories[kept.pk]["agreement_recorded_by_name"] == advisor_user.get_full_name()
    assert stories[kept.pk]["agreement_recorded_at"]
    erased = placeholder(ErasureReason.CONSENT_WITHDRAWN)
    assert stories[withdrawn.pk]["story"] == stories[withdrawn.pk]["title"] == erased  # as stored
    assert "A second story: the story as written." not in json.dumps(data)
    assert (stories[withdrawn.pk]["state"], stories[withdrawn.pk]["agreement_method_text"]) == ("withdrawn", "Verbally")
    html = archive.read("summary.html").decode()
    assert "Referred by Dr Asha Patel, General practitioner (" in html and "7654321)." in html
    assert "Whether the patient agreed to be sent their own link" in html
    assert "Stories of the case for funders (2)" in html and escape("Back on her feet: the story as written.") in html


# The export's reads: the patient record with its referral; the audit trail; the referral's practitioner, problems, consent and its changes, timeline,
# onward referrals, clinic bookings, messages, conversation and handovers; the case and its issues, notes,
# appointments, deadlines, evidence, three kinds of outcome, corrections, wellbeing scores, links, survey
# answers, closure, the agreement to the patient's own link and the stories of the case.
EXPORT_DATA_QUERIES = 28  # 25 before the practitioner, agreement and stories


def test_the_export_reads_the_same_number_of_queries_for_few_and_many_rows(
    dpo, held, advisor_user, django_assert_num_queries
):
    from outcomes.models import CaseStudy
    from outcomes.selectors.subject_access import subject_access_data, subject_patient

    stories = _who_referred_agreed_and_stories(held, advisor_user)
    with django_assert_num_queries(EXPORT_DATA_QUERIES):
        subject_access_data(subject_patient(held["patient"].pk))
    for i in range(5):
        casework_services.case_note_add(
            case=held["case"], actor=advisor_user, kind="call", text=f"Call {i}", occurred_at=timezone.now()
        )
        CaseStudy.objects.create(
            **{f.attname: getattr(stories[0], f.attname) for f in CaseStudy._meta.concrete_fields if not f.primary_key}
        )
    with django_assert_num_queries(EXPORT_DATA_QUERIES):
        data = subject_access_data(subject_patient(held["patient"].pk))
    assert len(data["case_studies"]) == 7
