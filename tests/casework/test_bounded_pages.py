"""Pages that once listed everything show a bounded number: the advisor's day at most HOME_SECTION_LENGTH rows a
section, with "See all" to the whole list a page at a time; a case's timeline the latest TIMELINE_LENGTH
entries, with "Show earlier". Their queries do not grow with the rows, and what they show is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.selectors import HOME_SECTION_LENGTH, TIMELINE_LENGTH
from casework.views.pages import PAGE_SIZE
from hjp.audit.models import AuditEvent
from hjp.core.pagination import INVALID_CURSOR_MESSAGE
from referrals.models import ReferralStatus
from tests import factories
from tests.casework.test_queries import CASE_PAGE_QUERIES, HOME_QUERIES
from tests.support.pages import listed, looks_missing

pytestmark = pytest.mark.django_db

# The signed-in page's own reads (as the other list pages), the page of rows with their cases and patients,
# and the audit entry.
TODAY_LIST_QUERIES = {"appointments": 5, "deadlines": 5, "evidence": 5}
SECTIONS = {"appointments": 27, "deadlines": 31, "evidence": 29}  # each more than a page (PAGE_SIZE)


def _open_cases(advisor, health_org, partnership, n=3):
    return [
        factories.CaseFactory(
            advisor=advisor,
            referral=factories.ReferralFactory(
                referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
            ),
        )
        for _ in range(n)
    ]


def _fill_the_day(cases, counts=SECTIONS):
    day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(counts["appointments"]):
        factories.AppointmentFactory(case=cases[i % len(cases)], starts_at=day_start + timedelta(minutes=20 * i))
    for i in range(counts["deadlines"]):
        factories.DeadlineFactory(case=cases[i % len(cases)], due_date=timezone.localdate() - timedelta(days=i % 9))
    for i in range(counts["evidence"]):
        case = cases[i % len(cases)]
        factories.EvidenceRequestFactory(
            case=case,
            state="answered",
            answer_text="Letter",
            answered_at=timezone.now() - timedelta(hours=i),
            answered_by=case.referral.referrer,
        )


@pytest.fixture
def busy_day(advisor_user, health_org, partnership):
    cases = _open_cases(advisor_user, health_org, partnership)
    _fill_the_day(cases)
    return cases


def test_the_advisors_day_shows_at_most_a_sections_length_and_links_to_the_rest(as_user, advisor_user, busy_day):
    client = as_user(advisor_user)
    response = client.get(reverse("casework:home"))
    home = response.context["home"]
    assert len(home.appointments_today) + len(home.appointments_week) == HOME_SECTION_LENGTH
    assert len(home.deadlines) == len(home.evidence_answers) == HOME_SECTION_LENGTH
    assert home.more_appointments and home.more_deadlines and home.more_evidence_answers
    content = response.content.decode()
    for section in SECTIONS:
        assert reverse("casework:today_list", args=[section]) in content
    assert f"More than {HOME_SECTION_LENGTH} deadlines: see all" in content


@pytest.mark.parametrize("section", SECTIONS)
def test_see_all_lists_the_whole_section_in_order_a_page_at_a_time(as_user, advisor_user, busy_day, section):
    client = as_user(advisor_user)
    first = client.get(reverse("casework:today_list", args=[section]))
    assert first.status_code == 200 and len(first.context["page"].object_list) == PAGE_SIZE
    rows = listed(client, first)
    assert len(rows) == len({row.pk for row in rows}) == SECTIONS[section]
    keys = {
        "appointments": lambda a: (a.starts_at, a.pk),
        "deadlines": lambda d: (d.due_date, d.pk),
        "evidence": lambda e: (-e.answered_at.timestamp(), -e.pk),
    }[section]
    assert rows == sorted(rows, key=keys)
    audited = AuditEvent.objects.filter(actor=advisor_user, action=AuditEvent.Action.LIST).order_by("-id")
    assert [e.summary for e in audited[:2]] == [f"advisor home: {section} page 2", f"advisor home: {section} page 1"]


@pytest.mark.parametrize("section", SECTIONS)
def test_see_all_takes_the_same_queries_for_few_and_many_rows_and_on_later_pages(
    as_user, advisor_user, health_org, partnership, django_assert_num_queries, section
):
    cases = _open_cases(advisor_user, health_org, partnership)
    _fill_the_day(cases, dict.fromkeys(SECTIONS, 2))
    client = as_user(advisor_user)
    url = reverse("casework:today_list", args=[section])
    with django_assert_num_queries(TODAY_LIST_QUERIES[section]):
        client.get(url)
    _fill_the_day(cases)
    with django_assert_num_queries(TODAY_LIST_QUERIES[section]):
        first = client.get(url)
    with django_assert_num_queries(TODAY_LIST_QUERIES[section]):
        assert client.get(url + first.context["page"].next_href).context["page"].number == 2


def test_the_advisors_day_takes_the_same_queries_when_every_section_overflows(
    as_user, advisor_user, busy_day, django_assert_num_queries
):
    client = as_user(advisor_user)
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("casework:home")).status_code == 200


def test_see_all_is_for_advice_workers_and_known_sections_only(as_user, referrer_user, advisor_user):
    assert looks_missing(as_user(referrer_user).get(reverse("casework:today_list", args=["deadlines"])))
    assert looks_missing(as_user(advisor_user).get(reverse("casework:today_list", args=["everything"])))


def test_see_all_shows_only_the_advisors_own_open_cases(as_user, advisor_user, health_org, partnership):
    colleague = factories.advisor(advisor_user.memberships.first().organisation)
    theirs = _open_cases(colleague, health_org, partnership, n=1)
    _fill_the_day(theirs, dict.fromkeys(SECTIONS, 2))
    client = as_user(advisor_user)
    for section in SECTIONS:
        assert client.get(reverse("casework:today_list", args=[section])).context["page"].object_list == []


# --- the case timeline --------------------------------------------------------------------------------------


def _history(case, notes: int, appointments: int):
    start = timezone.now() - timedelta(days=60)
    for i in range(notes):
        # Pairs at the same moment: the order still holds one way (newest first, then by id).
        factories.CaseNoteFactory(case=case, occurred_at=start + timedelta(hours=i // 2), text=f"Note number {i}.")
    for i in range(appointments):
        factories.AppointmentFactory(case=case, starts_at=start + timedelta(hours=i * 3))


def _timeline_keys(entries):
    return [(e["kind"], e["item"].pk) for e in entries]


def test_a_case_shows_its_latest_entries_and_pages_back_through_the_rest(as_user, advisor_user, case_in_progress):
    _history(case_in_progress, notes=45, appointments=12)
    client = as_user(advisor_user)
    url = reverse("casework:case", args=[case_in_progress.pk])
    response = client.get(url)
    page = response.context["timeline_page"]
    assert len(response.context["timeline"]) == TIMELINE_LENGTH and page.is_latest and page.earlier
    assert "Show earlier" in response.content.decode()
    seen = _timeline_keys(response.context["timeline"])
    while page.earlier:
        response = client.get(url, {"before": page.earlier})
        page = response.context["timeline_page"]
        assert not page.is_latest and "Latest" in response.content.decode()
        seen += _timeline_keys(response.context["timeline"])
    everything = [
        (e["kind"], e["item"].pk)
        for e in sorted(
            [{"kind": "note", "at": n.occurred_at, "rank": 1, "item": n} for n in case_in_progress.notes.all()]
            + [
                {"kind": "appointment", "at": a.starts_at, "rank": 0, "item": a}
                for a in case_in_progress.appointments.all()
            ],
            key=lambda e: (e["at"], e["rank"], e["item"].pk),
            reverse=True,
        )
    ]
    assert seen == everything and len(set(seen)) == 45 + 12 + 1  # and the first call of the fixture


def test_the_case_page_takes_the_same_queries_for_a_short_and_a_long_history_and_on_earlier_pages(
    as_user, advisor_user, case_in_progress, django_assert_num_queries
):
    client = as_user(advisor_user)
    url = reverse("casework:case", args=[case_in_progress.pk])
    _history(case_in_progress, notes=2, appointments=1)
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        client.get(url)
    _history(case_in_progress, notes=60, appointments=30)
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        latest = client.get(url)
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        client.get(url, {"before": latest.context["timeline_page"].earlier})


def test_a_damaged_show_earlier_link_shows_the_latest_entries_and_says_so(as_user, advisor_user, case_in_progress):
    _history(case_in_progress, notes=25, appointments=0)
    client = as_user(advisor_user)
    url = reverse("casework:case", args=[case_in_progress.pk])
    latest = client.get(url)
    response = client.get(url, {"before": "not-a-cursor"})
    assert response.status_code == 200 and INVALID_CURSOR_MESSAGE in response.content.decode()
    assert _timeline_keys(response.context["timeline"]) == _timeline_keys(latest.context["timeline"])


def test_the_next_appointment_is_found_however_long_the_history(as_user, advisor_user, case_in_progress):
    soon = factories.AppointmentFactory(case=case_in_progress, starts_at=timezone.now() + timedelta(days=2))
    for i in range(TIMELINE_LENGTH + 5):  # all later than the next one: the first page of the timeline is theirs
        factories.AppointmentFactory(case=case_in_progress, starts_at=timezone.now() + timedelta(days=10 + i))
    response = as_user(advisor_user).get(reverse("casework:case", args=[case_in_progress.pk]))
    assert response.context["next_appointment"] == soon
    assert soon not in [e["item"] for e in response.context["timeline"]]
