"""The SQL the lists and the search send is the SQL their indexes serve (PostgreSQL's EXPLAIN): a search by part of
a name reads the trigram indexes, by NHS number the pattern index, by reference the unique index; each list
is read in the order of an index, entered at the cursor, with no sort of the whole list. A few rows suffice:
the planner is told to avoid what it would do only because the table is small (a scan of it, a sort)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from casework import selectors as casework_selectors
from casework.models import Appointment, CaseNote
from hjp.core.pagination import keyset_filter
from hjp.notifications import selectors as notification_selectors
from referrals import selectors as referral_selectors
from referrals.models import ReferralStatus
from tests import factories

pytestmark = pytest.mark.django_db


def _plan(queryset, *avoid: str) -> str:
    """EXPLAIN of the queryset, with the planner told not to use the plans named in `avoid` where it can."""
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", *avoid):
            cursor.execute(f"SET LOCAL {setting} = off")
    return queryset.explain()


@pytest.fixture
def world(advisor_user, supervisor_user, health_org, partnership):
    cases = []
    for i in range(12):
        referral = factories.ReferralFactory(
            referring_organisation=health_org,
            partnership=partnership,
            status=ReferralStatus.IN_PROGRESS,
            patient__family_name=f"Kowalczyk{i}" if i % 3 == 0 else f"Smith{i}",
            patient__nhs_number=f"94347659{i:02d}",
        )
        cases.append(factories.CaseFactory(referral=referral, advisor=advisor_user))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return cases


def _key(row, key: str):
    for part in key.removeprefix("-").split("__"):
        row = getattr(row, part)
    return row


def test_a_search_by_part_of_a_name_reads_the_trigram_indexes(world, advisor_user):
    """With as many patients as a service gathers in a few years, the name lookup of a search
    (`patients_found_by`, which `referrals_matching` unions with the reference) can read the trigram indexes: with
    sequential scans discouraged, the plan uses them (on a loaded machine the planner may otherwise pick a parallel
    scan of this small table; a million-referral table is what `make bench` measures)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO referrals_patient (created_at, updated_at, given_name, family_name, nhs_number, address,"
            " postcode, phone, email, preferred_contact_method, contact_times, may_leave_message, language,"
            " interpreter_needed, access_needs, sex, ethnicity, redaction_reason)"
            " SELECT now(), now(), 'Given' || g, 'Family' || g, '', '', '', '', '', '', '', false, '', false, '',"
            " '', '', '' FROM generate_series(1, 100000) AS g"
        )
        cursor.execute("ANALYZE referrals_patient")
    plan = _plan(referral_selectors.patients_found_by("owalcz smi"))
    assert "patient_given_name_trgm" in plan and "patient_family_name_trgm" in plan, plan
    found = referral_selectors.referral_list(user=advisor_user, text="owalcz")
    assert {r.patient.family_name for r in found} == {f"Kowalczyk{i}" for i in (0, 3, 6, 9)}


def test_a_search_by_nhs_number_reads_its_pattern_index(world, advisor_user):
    plan = _plan(referral_selectors.referral_list(user=advisor_user, text="943 476 5903"), "enable_indexscan")
    nhs_lookups = [line for line in plan.splitlines() if "nhs_number" in line and "Index Cond" in line]
    assert nhs_lookups, plan
    assert [r.patient.nhs_number for r in referral_selectors.referral_list(user=advisor_user, text="943 476 5903")] == [
        "9434765903"
    ]


def test_a_search_by_reference_reads_the_unique_indexes(world, advisor_user):
    case = world[4]
    for text in (case.referral.reference.lower(), case.reference.lower()):
        filters = casework_selectors.CaseFilters(q=text)
        plan = _plan(casework_selectors.case_list(user=advisor_user, filters=filters))
        assert re.search(r"Index Cond: \(\(reference\)::text = '[A-Z0-9]+'::text\)", plan), plan
        assert list(casework_selectors.case_list(user=advisor_user, filters=filters)) == [case]


@pytest.mark.parametrize(
    "indexes, rows",
    [
        (("referral_advice_sort_idx",), lambda user: referral_selectors.referral_list(user=user)),
        (
            ("case_advisor_due_idx", "case_due_idx"),  # the planner's choice, by how many cases are the advisor's
            lambda user: casework_selectors.case_list(user=user, filters=casework_selectors.CaseFilters()),
        ),
    ],
)
def test_each_list_is_read_in_its_index_order_from_the_cursor(world, advisor_user, indexes, rows):
    queryset = rows(advisor_user)
    keys = queryset.query.order_by
    middle = list(queryset)[5]
    after = queryset.filter(keyset_filter(keys, [_key(middle, key) for key in keys]))[:21]
    plan = _plan(after, "enable_sort")
    assert any(f"Index Scan using {index} " in plan for index in indexes), plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
    # Entered at the cursor: the first key's bound is an index condition, not a filter of every earlier row.
    assert re.search(r"Index Cond: .*COALESCE\(.*\) (>=|<=) ", plan), plan


def test_the_service_caseload_and_the_inbox_have_their_indexes(world, supervisor_user, referrer_user):
    caseload = casework_selectors.case_list(
        user=supervisor_user, filters=casework_selectors.CaseFilters(scope="organisation")
    )
    assert "case_due_idx" in _plan(caseload[:26], "enable_sort")
    inbox = notification_selectors.inbox(user=referrer_user)
    assert "message_inbox_idx" in _plan(inbox[:26], "enable_sort")


def test_a_cases_timeline_is_read_newest_first_from_its_indexes(world):
    case = world[0]
    for i in range(5):
        factories.CaseNoteFactory(case=case, occurred_at=timezone.now() - timedelta(hours=i))
        factories.AppointmentFactory(case=case, starts_at=timezone.now() - timedelta(hours=i))
    notes = CaseNote.objects.filter(case=case).order_by("-occurred_at", "-pk")[:21]
    appointments = Appointment.objects.filter(case=case).order_by("-starts_at", "-pk")[:21]
    assert "case_note_timeline_idx" in _plan(notes, "enable_sort")
    assert "appointment_timeline_idx" in _plan(appointments, "enable_sort")


def test_the_service_caseload_by_advisor_walks_the_advisors_in_name_order(
    world, supervisor_user, health_org, partnership
):
    """Sorted by advisor, the whole service's caseload is read advisor by advisor from the name index, each
    advisor's cases sorted on their own (an incremental sort), entered at the cursor: never a sort of every case
    the service has."""
    other = factories.advisor(partnership.advice_organisation)
    for _ in range(4):
        referral = factories.ReferralFactory(
            referring_organisation=health_org, partnership=partnership, status=ReferralStatus.IN_PROGRESS
        )
        factories.CaseFactory(referral=referral, advisor=other)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    queryset = casework_selectors.case_list(
        user=supervisor_user, filters=casework_selectors.CaseFilters(scope="organisation", sort="advisor")
    )
    keys = queryset.query.order_by
    rows = list(queryset)
    assert [case.advisor.full_name for case in rows] == sorted(case.advisor.full_name for case in rows)
    middle = rows[5]
    for page in (queryset.all()[:26], queryset.filter(keyset_filter(keys, [_key(middle, key) for key in keys]))[:26]):
        plan = _plan(page, "enable_sort", "enable_hashjoin", "enable_mergejoin")
        # The advisors walked in name order: read from the index alone, where the row needs only their names.
        assert re.search(r"Index (Only )?Scan using user_name_idx ", plan), plan
        assert re.search(r"Incremental Sort.*\n.*\n\s*Presorted Key: accounts_user\.full_name, ", plan), plan
        assert "Sort" not in plan.replace("Sort Key", "").replace("Incremental Sort", "").replace("Presorted", ""), plan
