"""The triage queue, the caseload and the case page take a fixed number of queries, however many rows."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, EvidenceState
from casework.selectors import HOME_SECTION_LENGTH
from casework.views.pages import PAGE_SIZE
from hjp.core.dates import start_of_today
from referrals.models import ReferralStatus
from tests import factories

pytestmark = pytest.mark.django_db

# Each includes what every signed-in page costs (session read; the user with its inbox count and second-factor
# devices; memberships: tests/core/test_request_overhead.py), the audit entry and the page's own
# fixed set of reads. Triage: also one query for possible duplicates of the page's referrals, and one for the
# referrals other advice services handed over to it (casework.selectors.handovers_waiting).
# No list counts its rows (hjp.core.pagination); the case page reads its timeline a page at a time (notes,
# appointments) and the next appointment apart.
TRIAGE_QUERIES = 9
CASELOAD_QUERIES = 9
# The case with its referral, patient and consent; its categories; its short lists in one query (issues,
# deadlines, evidence requests, onward referrals, the referral's steps and the consent's changes, the clinic
# booking, with the people they name, and the next appointment: casework.selectors.case_record); a page of notes
# and one of appointments; the conversation's latest messages with their authors (referrals.selectors.thread_preview).
CASE_PAGE_QUERIES = 10
# The home's own: appointments, deadlines, evidence replies, the advisor's clinic bookings, new referrals and
# their count.
HOME_QUERIES = 10


def _add_referrals(n, health_org, partnership):
    for i in range(n):
        factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, urgency="urgent" if i % 2 else "routine"
        )


def _add_cases(n, advisor, health_org, partnership):
    for _ in range(n):
        case = factories.CaseFactory(
            advisor=advisor,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
        factories.CaseIssueFactory(case=case)
        factories.DeadlineFactory(case=case)
        factories.EvidenceRequestFactory(case=case)


def _fill_case(case, n):
    for i in range(n):
        factories.CaseIssueFactory(case=case)
        note = factories.CaseNoteFactory(case=case, occurred_at=timezone.now() - timedelta(hours=i))
        appointment = factories.AppointmentFactory(case=case)
        if i % 2:  # struck through, with who marked it: read with the rows, not one query each
            for record in (note, appointment):
                record.entered_in_error_at, record.entered_in_error_by = timezone.now(), case.advisor
                record.entered_in_error_reason = "Wrong case."
                record.save()
        factories.DeadlineFactory(case=case, issue=case.issues.first())
        factories.EvidenceRequestFactory(case=case)
        factories.OnwardReferralFactory(case=case)


@pytest.mark.parametrize("more", [0, 15])
def test_triage_queries_do_not_grow_with_the_queue(
    as_user, advisor_user, health_org, partnership, django_assert_num_queries, more
):
    _add_referrals(3 + more, health_org, partnership)
    # Every part of a row shown: a team, a known deadline (from a decision letter), the patient's phone, contact
    # times, interpreter and access needs; the queue reads only the fields its rows show, and one it left out
    # would cost a query per row here.
    factories.ReferralFactory(
        referring_organisation=health_org,
        partnership=partnership,
        referring_team=factories.TeamFactory(organisation=health_org, name="Ward 7"),
        known_deadline=timezone.localdate() - timedelta(days=40),
        known_deadline_kind="decision_letter",
        patient__phone="0113 496 0999",
        patient__contact_times="Mornings",
        patient__interpreter_needed=True,
        patient__language="Polish",
        patient__access_needs="Wheelchair user",
    )
    client = as_user(advisor_user)
    with django_assert_num_queries(TRIAGE_QUERIES):
        response = client.get(reverse("casework:triage"))
    assert len(response.context["page"].object_list) == 4 + more
    for shown in ("Ward 7", "Reconsideration due", "0113 496 0999", "Mornings", "Polish", "Wheelchair user"):
        assert shown in response.text


@pytest.mark.parametrize("sort", ["name", "next_deadline"])
@pytest.mark.parametrize("more", [0, 12, 30])
def test_caseload_queries_do_not_grow_with_the_caseload(
    as_user, supervisor_user, advisor_user, health_org, partnership, django_assert_num_queries, more, sort
):
    _add_cases(3 + more, advisor_user, health_org, partnership)
    client = as_user(supervisor_user)
    with django_assert_num_queries(CASELOAD_QUERIES):
        response = client.get(reverse("casework:caseload"), {"scope": "organisation", "sort": sort})
    assert len(response.context["page"].object_list) == min(3 + more, PAGE_SIZE)
    if next_href := response.context["page"].next_href:
        with django_assert_num_queries(CASELOAD_QUERIES):
            later = client.get(reverse("casework:caseload") + next_href)
        assert len(later.context["page"].object_list) == 3 + more - PAGE_SIZE


@pytest.mark.parametrize("more", [0, 8])
def test_case_page_queries_do_not_grow_with_the_record(
    as_user, advisor_user, case_in_progress, django_assert_num_queries, more
):
    _fill_case(case_in_progress, 2 + more)
    client = as_user(advisor_user)
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        response = client.get(reverse("casework:case", args=[case_in_progress.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("more", [0, 10])
def test_advisor_home_queries_do_not_grow(
    as_user, advisor_user, health_org, partnership, django_assert_num_queries, more
):
    _add_cases(2 + more, advisor_user, health_org, partnership)
    for case in Case.objects.filter(advisor=advisor_user):
        # A row in every section, each naming its patient: the sections read only the fields they show, and a
        # field they left out would cost a query per row here.
        factories.AppointmentFactory(case=case, starts_at=start_of_today() + timedelta(hours=9), place="Room 2")
        factories.EvidenceRequestFactory(
            case=case,
            state=EvidenceState.ANSWERED,
            answered_at=timezone.now(),
            answered_by=case.referral.referrer,
            answer_text="Letter attached.",
        )
    _add_referrals(2 + more, health_org, partnership)
    clinic = factories.ClinicSessionFactory(partnership=partnership, advisor=advisor_user, slot_count=20)
    for slot in range(2 + more):
        factories.ClinicBookingFactory(session=clinic, slot=slot, interpreter="bsl")
    client = as_user(advisor_user)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("casework:home"))
    home = response.context["home"]
    shown = min(2 + more, HOME_SECTION_LENGTH)
    assert [len(home.appointments_today), len(home.deadlines), len(home.evidence_answers)] == [shown] * 3
    assert len(home.clinic_bookings_today + home.clinic_bookings_week) == 2 + more
    assert len(home.new_referrals) == min(2 * (2 + more), 5)  # those sent, and those booked into the clinic
    for row in (*home.appointments_today, *home.deadlines, *home.evidence_answers):
        assert row.case.referral.patient.full_name in response.text
    for referral in home.new_referrals:
        assert f"{referral.reference} · {referral.patient.full_name}" in response.text
    assert "Room 2" in response.text and "BSL interpreter" in response.text
