import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from casework import services
from casework.models import Case, CaseState, Deadline, EvidenceRequest
from hjp.audit.models import AuditEvent
from hjp.core.uploads import MAX_EVIDENCE_BYTES
from referrals.models import ReferralStatus
from tests import factories
from tests.support.documents import jpeg_bytes, png_bytes
from tests.support.forms import once

from .test_services import PDF

pytestmark = pytest.mark.django_db
PNG = png_bytes(size=(40, 30))
JPEG = jpeg_bytes(size=(40, 30))


def _referrer_sees(client, referrer, referral) -> str:
    client.force_login(referrer)
    response = client.get(reverse("referrals:detail", args=[referral.pk]))
    assert response.status_code == 200
    return response.content.decode()


# --- triage -------------------------------------------------------------------------------------------------


def test_triage_lists_urgent_first_then_oldest_with_the_patients_needs(as_user, advisor_user, health_org, partnership):
    def make(days, urgency, **patient):
        return factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            urgency=urgency,
            submitted_at=timezone.now() - timedelta(days=days),
            patient=factories.PatientFactory(**patient),
        )

    old = make(9, "routine", access_needs="Wheelchair user")
    new = make(1, "routine")
    urgent = make(2, "urgent", interpreter_needed=True, language="Polish")
    response = as_user(advisor_user).get(reverse("casework:triage"))
    assert [r.pk for r in response.context["page"].object_list] == [urgent.pk, old.pk, new.pk]
    assert response.context["counts"] == {"waiting": 3, "urgent": 1, "over_a_week": 1, "interpreter": 1}
    html = response.content.decode()
    assert "Interpreter</span> Polish" in html and "Wheelchair user" in html
    assert AuditEvent.objects.filter(actor=advisor_user, action="list", summary__startswith="triage").exists()


def test_accepting_from_triage_opens_the_case_and_the_referrer_sees_accepted(
    client, advisor_user, referral, referrer_user
):
    client.force_login(advisor_user)
    response = client.post(reverse("casework:accept", args=[referral.pk]), once())
    case = Case.objects.get(referral=referral)
    assert response.status_code == 302 and response["Location"] == reverse("casework:case", args=[case.pk])
    html = _referrer_sees(client, referrer_user, referral)
    assert "Accepted" in html and "Awaiting first contact" in html


def test_a_supervisor_accepts_for_a_named_advisor(client, supervisor_user, advisor_user, referral):
    client.force_login(supervisor_user)
    client.post(reverse("casework:accept", args=[referral.pk]), once({"advisor": advisor_user.pk}))
    assert Case.objects.get(referral=referral).advisor == advisor_user


def test_declining_from_triage_shows_the_referrer_why(client, advisor_user, referral, referrer_user):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:decline", args=[referral.pk]),
        once({"reason": "out_of_scope", "explanation": "Try the Pensions Ombudsman."}),
    )
    assert response.status_code == 302
    html = _referrer_sees(client, referrer_user, referral)
    assert "Declined" in html and "Reason: Outside the advice we give" in html and "Try the Pensions Ombudsman." in html
    change = referral.status_changes.get(to_status=ReferralStatus.DECLINED)
    assert (change.decline_reason, change.reason) == ("out_of_scope", "Try the Pensions Ombudsman.")


def test_a_decline_without_explanation_keeps_what_was_typed(client, advisor_user, referral):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:decline", args=[referral.pk]), once({"reason": "other", "explanation": ""})
    )
    assert response.status_code == 400
    assert response.context["form"]["reason"].value() == "other"
    assert response.context["errors"]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SUBMITTED


def test_redirecting_from_triage_names_the_provider_to_the_referrer(
    client, advisor_user, referral, referrer_user, provider
):
    client.force_login(advisor_user)
    client.post(
        reverse("casework:redirect", args=[referral.pk]),
        once({"provider": provider.pk, "note": "They can represent at tribunal."}),
    )
    html = _referrer_sees(client, referrer_user, referral)
    assert "Redirected" in html and "Passed to City Law Centre. They can represent at tribunal." in html


def test_a_triaged_referral_cannot_be_triaged_again(client, advisor_user, case, referral):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:decline", args=[referral.pk]), once({"reason": "other", "explanation": "x"})
    )
    assert response.status_code == 302 and response["Location"] == reverse("referrals:detail", args=[referral.pk])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


@pytest.mark.parametrize("action", ["accept", "decline", "redirect"])
def test_a_draft_is_not_found_in_triage_by_the_service_it_would_go_to(client, advisor_user, referral, action):
    referral.status, referral.submitted_at = ReferralStatus.DRAFT, None
    referral.save()
    client.force_login(advisor_user)
    response = client.get(reverse(f"casework:{action}", args=[referral.pk]))
    assert response.status_code == 404
    assert referral.reference not in " ".join(str(m) for m in response.wsgi_request._messages)


def test_recording_first_contact_shows_the_referrer_in_progress(client, advisor_user, case, referral, referrer_user):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:note_add", args=[case.pk]),
        once(
            {
                "kind": "call",
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "text": "Spoke to her.",
                "first_contact": "on",
            }
        ),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert "In progress" in _referrer_sees(client, referrer_user, referral)


# --- the case page ------------------------------------------------------------------------------------------


def test_the_case_page_shows_the_record_and_is_audited(as_user, advisor_user, case_in_progress):
    factories.DeadlineFactory(
        case=case_in_progress, title="Send MR letter", due_date=timezone.localdate() + timedelta(days=3)
    )
    factories.EvidenceRequestFactory(case=case_in_progress, due_date=timezone.localdate() - timedelta(days=1))
    response = as_user(advisor_user).get(reverse("casework:case", args=[case_in_progress.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert case_in_progress.referral.patient.family_name in html
    assert "Send MR letter" in html and "in 3 days" in html and "Overdue" in html
    assert "First call." in html
    assert AuditEvent.objects.filter(
        action="view", object_type="casework.case", object_id=str(case_in_progress.pk)
    ).exists()


def test_setting_a_reconsideration_deadline_from_the_letter_date(client, advisor_user, case_in_progress):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:deadline_add", args=[case_in_progress.pk]),
        once({"kind": "reconsideration", "basis_date": "2026-01-31", "title": ""}),
    )
    assert response.status_code == 302
    assert Deadline.objects.get().due_date.isoformat() == "2026-02-28"


def test_bad_dates_are_refused_without_losing_input(client, advisor_user, case_in_progress):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:appointment_add", args=[case_in_progress.pk]),
        once(
            {
                "kind": "in_person",
                "starts_at": "31/02/2026 25:00",
                "duration_minutes": "45",
                "place": "",
                "note": "Bring the letters",
            }
        ),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"starts_at", "place"}
    assert form["note"].value() == "Bring the letters"


def test_a_stale_save_is_refused_showing_the_other_change_and_keeping_the_input(
    client, advisor_user, supervisor_user, case_in_progress
):
    loaded = case_in_progress.version
    services.case_update(
        case=case_in_progress,
        actor=supervisor_user,
        version=loaded,
        summary="Supervisor: tribunal listed for March",
        case_status="",
    )
    client.force_login(advisor_user)
    url = reverse("casework:case_edit", args=[case_in_progress.pk])
    response = client.post(url, {"version": loaded, "summary": "Advisor: waiting for GP letter", "case_status": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Someone else changed this case" in html
    assert "Supervisor: tribunal listed for March" in html  # their change, shown
    assert response.context["form"]["summary"].value() == "Advisor: waiting for GP letter"  # ours, kept
    assert response.context["form"]["version"].value() == loaded + 1
    case_in_progress.refresh_from_db()
    assert case_in_progress.summary == "Supervisor: tribunal listed for March"
    # Saving again, having seen the other change, goes through.
    resubmit = client.post(url, {"version": loaded + 1, "summary": "Advisor: waiting for GP letter", "case_status": ""})
    assert resubmit.status_code == 302


def test_consent_withdrawal_from_the_case_page(client, advisor_user, case_in_progress, referral):
    client.force_login(advisor_user)
    response = client.post(
        reverse("casework:withdraw_consent", args=[case_in_progress.pk]),
        {"note": "Patient phoned to withdraw.", "confirm": "on"},
    )
    assert response.status_code == 302
    case_in_progress.refresh_from_db()
    referral.refresh_from_db()
    assert case_in_progress.closure_reason == "consent_withdrawn" and referral.status == ReferralStatus.CANCELLED
    page = client.get(reverse("casework:case", args=[case_in_progress.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Details removed (consent withdrawn on" in html and "First call." not in html
    assert reverse("casework:reopen", args=[case_in_progress.pk]) not in html


def test_a_withdrawal_recorded_on_the_referral_page_stops_the_case(
    client, referrer_user, advisor_user, case_in_progress
):
    patient = case_in_progress.referral.patient
    # A name no page text can contain by chance (a random surname such as "Case" would be on the page anyway).
    patient.family_name = name = "Zabriskie-Quennell"
    patient.save()
    client.force_login(referrer_user)
    client.post(
        reverse("referrals:withdraw_consent", args=[case_in_progress.referral_id]),
        {"note": "Patient told me.", "confirm": "on"},
    )
    case_in_progress.refresh_from_db()
    assert case_in_progress.state == CaseState.CLOSED and case_in_progress.closure_reason == "consent_withdrawn"
    client.force_login(advisor_user)
    html = client.get(reverse("casework:case", args=[case_in_progress.pk])).content.decode()
    assert "withdr" in html and name not in html


# --- caseload -----------------------------------------------------------------------------------------------


def test_caseload_filters_searches_and_counts(as_user, advisor_user, advice_org, health_org, partnership):
    def case(**kwargs):
        referral = factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            status=ReferralStatus.IN_PROGRESS,
            patient=factories.PatientFactory(**kwargs.pop("patient", {})),
        )
        return factories.CaseFactory(referral=referral, advisor=advisor_user, **kwargs)

    due = case(patient={"family_name": "Kowalski", "nhs_number": "9434765919"})
    factories.DeadlineFactory(case=due, due_date=timezone.localdate())
    waiting = case()
    factories.EvidenceRequestFactory(case=waiting)
    closed = case(state=CaseState.CLOSED, closed_at=timezone.now(), closure_reason="advice_given")
    someone_elses = factories.CaseFactory(
        referral=factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
        )
    )
    client = as_user(advisor_user)

    def listed(**params):
        # The filters are sent as the page's form sends them (POST), and the results read where it redirects.
        response = client.post(reverse("casework:caseload"), params, follow=True)
        assert response.status_code == 200
        return {c.pk for c in response.context["page"].object_list}

    assert listed() == {due.pk, waiting.pk, closed.pk}
    assert someone_elses.pk not in listed()
    assert listed(due_this_week="on") == {due.pk}
    assert listed(evidence_outstanding="on") == {waiting.pk}
    assert listed(state="closed") == {closed.pk}
    assert listed(q="kowal") == {due.pk}
    assert listed(q="943 476 5919") == {due.pk}
    assert listed(q=closed.reference) == {closed.pk}
    assert client.get(reverse("casework:caseload")).context["counts"]["open"] == 2


def test_supervisors_see_the_services_caseload_and_open_cases_per_advisor(
    as_user, supervisor_user, advisor_user, advice_org, health_org, partnership
):
    for _ in range(2):
        factories.CaseFactory(
            advisor=advisor_user,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
    response = as_user(supervisor_user).get(reverse("casework:caseload"), {"scope": "organisation"})
    assert len(response.context["page"].object_list) == 2
    per_advisor = {u.pk: u.open_cases for u in response.context["per_advisor"]}
    assert per_advisor == {advisor_user.pk: 2, supervisor_user.pk: 0}


def test_an_advisor_cannot_widen_the_caseload_to_the_whole_service(as_user, advisor_user, health_org, partnership):
    factories.CaseFactory(
        referral=factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
        )
    )
    response = as_user(advisor_user).get(reverse("casework:caseload"), {"scope": "organisation"})
    assert response.context["page"].object_list == []


def test_advisor_home_shows_the_day(as_user, advisor_user, case_in_progress, health_org, partnership):
    factories.AppointmentFactory(case=case_in_progress, starts_at=timezone.now() + timedelta(minutes=5))
    factories.DeadlineFactory(
        case=case_in_progress, title="Overdue task", due_date=timezone.localdate() - timedelta(days=2)
    )
    factories.EvidenceRequestFactory(
        case=case_in_progress,
        state="answered",
        answer_text="Letter",
        answered_at=timezone.now(),
        answered_by=case_in_progress.referral.referrer,
    )
    factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    response = as_user(advisor_user).get(reverse("casework:home"))
    home = response.context["home"]
    assert len(home.appointments_today) == 1 and [d.title for d in home.deadlines] == ["Overdue task"]
    assert len(home.evidence_answers) == 1 and home.waiting_count == 1
    assert "2 days overdue" in response.content.decode()


# --- evidence: the referrer's side --------------------------------------------------------------------------


@pytest.fixture
def evidence(case_in_progress):
    return factories.EvidenceRequestFactory(case=case_in_progress, what_is_needed="Mobility letter please")


def test_the_referrer_sees_requests_addressed_to_them_only(client, evidence, referrer_user, health_org):
    client.force_login(referrer_user)
    assert list(client.get(reverse("casework:evidence_list")).context["page"].object_list) == [evidence]
    colleague = factories.referrer(health_org)
    client.force_login(colleague)
    assert list(client.get(reverse("casework:evidence_list")).context["page"].object_list) == []
    assert client.get(reverse("casework:evidence_detail", args=[evidence.pk])).status_code == 404


@pytest.mark.parametrize(("name", "content"), [("letter.pdf", PDF), ("scan.png", PNG), ("photo.jpg", JPEG)])
def test_the_referrer_answers_with_a_pdf_or_image(client, evidence, referrer_user, advisor_user, name, content):
    client.force_login(referrer_user)
    response = client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once(
            {"action": "answer", "answer-answer_text": "", "answer-answer_file": SimpleUploadedFile(name, content)},
            prefix="answer",
        ),
    )
    assert response.status_code == 302
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.ANSWERED
    client.force_login(advisor_user)
    download = client.get(reverse("casework:evidence_file", args=[evidence.pk]))
    assert download.status_code == 200
    received = b"".join(download.streaming_content)
    if name.endswith(".pdf"):
        assert received == content
    else:  # pictures are redrawn before they are stored
        with Image.open(io.BytesIO(received)) as picture:
            assert picture.size == (40, 30) and picture.format == {"png": "PNG", "jpg": "JPEG"}[name[-3:]]
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Cache-Control"] == "no-store, private"
    assert AuditEvent.objects.filter(action="download", object_id=str(evidence.pk), actor=advisor_user).exists()


def test_a_file_of_the_wrong_type_is_refused_whatever_its_name(client, evidence, referrer_user):
    client.force_login(referrer_user)
    fake = SimpleUploadedFile("letter.pdf", b"MZ\x90\x00 this is a Windows program", content_type="application/pdf")
    response = client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once({"action": "answer", "answer-answer_text": "See attached", "answer-answer_file": fake}, prefix="answer"),
    )
    assert response.status_code == 400
    assert "PDF, PNG or JPEG" in response.content.decode()
    assert response.context["answer_form"]["answer_text"].value() == "See attached"
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.REQUESTED and not evidence.answer_file


def test_a_file_over_10_mb_is_refused(client, evidence, referrer_user):
    client.force_login(referrer_user)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES)
    response = client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once({"action": "answer", "answer-answer_file": big}, prefix="answer"),
    )
    assert response.status_code == 400 and "larger than 10 MB" in response.content.decode()
    evidence.refresh_from_db()
    assert evidence.state == EvidenceRequest.State.REQUESTED


def test_the_referrer_declines_saying_why_and_the_advisor_sees_it(client, evidence, referrer_user, advisor_user):
    client.force_login(referrer_user)
    client.post(
        reverse("casework:evidence_detail", args=[evidence.pk]),
        once({"action": "decline", "decline-reason": "Patient is registered elsewhere now."}, prefix="decline"),
    )
    client.force_login(advisor_user)
    html = client.get(reverse("casework:case", args=[evidence.case_id])).content.decode()
    assert "Declined" in html and "Patient is registered elsewhere now." in html


def test_the_case_page_offers_no_evidence_request_without_consent_scope_2(
    as_user, advisor_user, health_org, partnership
):
    referral = factories.ReferralFactory(
        referring_organisation=health_org, partnership=partnership, consent__medical_evidence=False
    )
    case = services.referral_accept(referral=referral, actor=advisor_user)
    client = as_user(advisor_user)
    html = client.get(reverse("casework:case", args=[case.pk])).content.decode()
    assert "did not consent to asking the referrer for medical evidence" in html
    response = client.post(
        reverse("casework:evidence_add", args=[case.pk]),
        once({"what_is_needed": "x", "due_date": timezone.localdate().isoformat()}),
    )
    assert response.status_code == 400 and "did not consent" in response.content.decode()
    assert not EvidenceRequest.objects.exists()
