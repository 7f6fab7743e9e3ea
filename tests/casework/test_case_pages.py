"""The case record's forms, end to end: each validates, calls its service and never loses input."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import AdviceProvider, Appointment, CaseIssue, CaseState, EvidenceRequest
from hjp.notifications.models import Message, MessageKind
from referrals.models import ProblemCategory, ReferralStatus
from tests import factories
from tests.support.forms import once
from tests.support.pages import looks_missing

pytestmark = pytest.mark.django_db


@pytest.fixture
def advisor_client(client, advisor_user):
    client.force_login(advisor_user)
    return client


def test_adding_an_issue_with_a_sub_category_of_another_category_keeps_the_input(advisor_client, case_in_progress):
    housing = ProblemCategory.objects.get(code="housing")
    url = reverse("casework:issue_add", args=[case_in_progress.pk])
    response = advisor_client.post(
        url, once({"category": housing.pk, "sub_category": "pip", "description": "Damp flat"})
    )
    assert response.status_code == 400
    assert "not part of Housing" in response.content.decode()
    assert response.context["form"]["description"].value() == "Damp flat"
    response = advisor_client.post(
        url, once({"category": housing.pk, "sub_category": "disrepair", "description": "Damp"})
    )
    assert response.status_code == 302
    assert case_in_progress.issues.filter(sub_category__code="disrepair").exists()


def test_editing_and_resolving_an_issue(advisor_client, case_in_progress):
    issue = case_in_progress.issues.get()
    benefits = ProblemCategory.objects.get(code="benefits")
    advisor_client.post(
        reverse("casework:issue_edit", args=[case_in_progress.pk, issue.pk]),
        once(
            {"version": case_in_progress.version, "category": benefits.pk, "sub_category": "esa", "description": "ESA"}
        ),
    )
    case_in_progress.refresh_from_db()
    response = advisor_client.post(
        reverse("casework:issue_resolve", args=[case_in_progress.pk, issue.pk]),
        {"version": case_in_progress.version, "resolution": "Award restored"},
    )
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.sub_category.code == "esa" and issue.status == CaseIssue.Status.RESOLVED


def test_an_edit_sent_again_with_other_words_is_not_thrown_away(advisor_client, case_in_progress):
    """Back to an edit page already saved, a change and Save: the version check shows what is saved now and
    keeps what was typed; nothing is dropped as "already sent"."""
    issue = case_in_progress.issues.get()
    benefits = ProblemCategory.objects.get(code="benefits")
    url = reverse("casework:issue_edit", args=[case_in_progress.pk, issue.pk])
    page = once(
        {
            "version": case_in_progress.version,
            "category": benefits.pk,
            "sub_category": "esa",
            "description": "ESA stopped",
        }
    )
    assert advisor_client.post(url, page).status_code == 302
    again = advisor_client.post(url, {**page, "description": "ESA stopped after a work capability assessment"})
    html = again.content.decode()
    assert again.status_code == 400
    assert "already sent" not in html and "ESA stopped after a work capability assessment" in html
    issue.refresh_from_db()
    assert issue.description == "ESA stopped"


def test_an_issue_of_another_case_is_404(advisor_client, case_in_progress):
    elsewhere = factories.CaseIssueFactory(description="Rent arrears at the other address")
    response = advisor_client.get(reverse("casework:issue_edit", args=[case_in_progress.pk, elsewhere.pk]))
    assert looks_missing(response) and "Rent arrears" not in response.content.decode()
    refused = advisor_client.post(
        reverse("casework:issue_resolve", args=[case_in_progress.pk, elsewhere.pk]),
        {"version": case_in_progress.version, "resolution": "Award restored"},
    )
    assert looks_missing(refused)
    elsewhere.refresh_from_db()
    assert elsewhere.status != CaseIssue.Status.RESOLVED and elsewhere.resolution == ""


def test_booking_an_appointment_and_recording_attendance(advisor_client, case_in_progress):
    when = (timezone.localtime() + timedelta(days=1)).replace(second=0, microsecond=0)
    response = advisor_client.post(
        reverse("casework:appointment_add", args=[case_in_progress.pk]),
        once(
            {
                "kind": "video",
                "starts_at": when.strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": 30,
                "place": "Teams link sent by text",
                "note": "",
            }
        ),
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at == when and appointment.advisor == case_in_progress.advisor
    response = advisor_client.post(
        reverse("casework:appointment_edit", args=[case_in_progress.pk, appointment.pk]),
        once(
            {
                "version": case_in_progress.version,
                "kind": "video",
                "starts_at": when.strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": 30,
                "place": "Teams",
                "note": "",
                "attendance": "attended",
            }
        ),
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.attendance == Appointment.Attendance.ATTENDED


def test_marking_a_deadline_done_from_the_case_page(advisor_client, case_in_progress):
    deadline = factories.DeadlineFactory(case=case_in_progress)
    page = advisor_client.get(reverse("casework:case", args=[case_in_progress.pk])).content.decode()
    assert reverse("casework:deadline_done", args=[case_in_progress.pk, deadline.pk]) in page
    response = advisor_client.post(
        reverse("casework:deadline_done", args=[case_in_progress.pk, deadline.pk]),
        {"version": case_in_progress.version},
    )
    assert response.status_code == 302
    deadline.refresh_from_db()
    assert deadline.is_done


def test_requesting_evidence_puts_a_message_in_the_referrers_inbox(advisor_client, case_in_progress, referrer_user):
    response = advisor_client.post(
        reverse("casework:evidence_add", args=[case_in_progress.pk]),
        once(
            {"what_is_needed": "Mobility letter", "due_date": (timezone.localdate() + timedelta(days=10)).isoformat()}
        ),
    )
    assert response.status_code == 302
    evidence = EvidenceRequest.objects.get()
    message = Message.objects.get(recipient=referrer_user, kind=MessageKind.EVIDENCE_REQUEST)
    assert message.url == reverse("casework:evidence_detail", args=[evidence.pk])
    patient = case_in_progress.referral.patient
    assert patient.family_name not in message.subject + message.body


def test_closing_and_reopening_are_seen_by_the_referrer(
    client, advisor_user, supervisor_user, referrer_user, case_in_progress, referral
):
    client.force_login(advisor_user)
    client.post(
        reverse("outcomes:case_close", args=[case_in_progress.pk]),
        {
            "close_case-version": case_in_progress.version,
            "close_case-closure_reason": "work_completed",
            "close_case-no_outcome_reason": "advice_only",
        },
    )
    case_in_progress.refresh_from_db()
    assert case_in_progress.state == CaseState.CLOSED
    client.force_login(supervisor_user)
    response = client.post(
        reverse("casework:reopen", args=[case_in_progress.pk]),
        {"version": case_in_progress.version, "reason": "Appeal lodged after all"},
    )
    assert response.status_code == 302
    client.force_login(referrer_user)
    html = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Work completed" in html and "Appeal lodged after all" in html
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.IN_PROGRESS


def test_a_supervisor_reallocates_from_the_case_page(client, supervisor_user, advice_org, case_in_progress):
    colleague = factories.advisor(advice_org)
    client.force_login(supervisor_user)
    response = client.post(
        reverse("casework:reallocate", args=[case_in_progress.pk]),
        {"version": case_in_progress.version, "advisor": colleague.pk, "note": ""},
    )
    assert response.status_code == 302
    case_in_progress.refresh_from_db()
    assert case_in_progress.advisor == colleague


def test_a_duplicate_provider_name_is_refused_without_a_500(client, supervisor_user, provider):
    client.force_login(supervisor_user)
    response = client.post(
        reverse("casework:provider_add"), once({"name": provider.name, "specialisms": "x", "is_active": "on"})
    )
    assert response.status_code == 400 and response.context["errors"]
    response = client.post(
        reverse("casework:provider_add"), once({"name": "Shelter", "is_active": "on", "capacity": "open"}), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("casework:providers")
    assert "Shelter" in response.content.decode()
    assert AdviceProvider.objects.filter(name=provider.name).count() == 1


def test_unparseable_filters_and_pages_do_not_break_the_caseload(advisor_client, case_in_progress):
    plain = advisor_client.get(reverse("casework:caseload"))
    response = advisor_client.get(
        reverse("casework:caseload"), {"state": "nonsense", "category": "abc", "sort": "drop table", "page": "x"}
    )
    # The filters it cannot read are ignored: the advisor sees their caseload, first page, as with none.
    assert response.status_code == 200 and response.context["page"].number == 1
    assert response.context["page"].object_list == plain.context["page"].object_list != []
