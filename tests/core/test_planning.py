"""hjp.core.planning: the case's query and short lists, the referral's query and triage's page of referrals are
planned with their joins as written and the advisor's appointments in their index's order, each hint in the query's
own message, leaving nothing set on the connection; inside an atomic block the query is planned as usual."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework import selectors
from casework.models import Case
from hjp.core.dates import start_of_today
from hjp.core.planning import IN_INDEX_ORDER, JOINS_AS_WRITTEN, joins_as_written
from referrals.models import Urgency
from tests import factories


def _setting(name="join_collapse_limit") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def _page_with_hinted_reads(client, url, shown: str):
    """The page at `url`, which must show `shown`, and the queries it sent with their joins as written; nothing is
    left set on the connection."""
    default = _setting()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200 and shown in response.content.decode()
    assert _setting() == default != "1"
    return response, [q["sql"] for q in queries if q["sql"].startswith(JOINS_AS_WRITTEN)]


@pytest.mark.django_db(transaction=True)
def test_the_case_page_plans_its_case_query_as_written_and_leaves_the_connection_as_it_was(client):
    case = factories.CaseFactory()
    client.force_login(case.advisor)
    default = _setting()
    _, hinted = _page_with_hinted_reads(client, reverse("casework:case", args=[case.pk]), case.reference)
    # The case, its referral's categories, and its short lists (issues, deadlines, ...: one UNION ALL).
    assert len(hinted) == 3 and 'FROM "casework_case"' in hinted[0] and "UNION ALL" in hinted[2]
    # Another service's advisor still gets the same 404 as for a missing case.
    client.force_login(factories.advisor())
    assert client.get(reverse("casework:case", args=[case.pk])).status_code == 404
    assert _setting() == default


@pytest.mark.django_db(transaction=True)
def test_inside_an_atomic_block_the_case_is_planned_as_usual():
    case = factories.CaseFactory()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert selectors.case_detail(user=case.advisor, pk=case.pk) == case
        assert _setting() != "1"
    assert not any(q["sql"].startswith(JOINS_AS_WRITTEN) for q in queries)


@pytest.mark.django_db(transaction=True)
def test_the_advisors_day_reads_their_appointments_in_index_order_and_leaves_sorting_on(client):
    case = factories.CaseFactory()
    booked = [
        factories.AppointmentFactory(case=case, starts_at=start_of_today() + timedelta(minutes=30 - i))
        for i in range(3)
    ]
    client.force_login(case.advisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("casework:home"))
    hinted = [q["sql"] for q in queries if q["sql"].startswith(IN_INDEX_ORDER)]
    assert len(hinted) == 1 and 'FROM "casework_appointment"' in hinted[0]
    # Soonest first, as before.
    assert [a.pk for a in response.context["home"].appointments_today] == [a.pk for a in reversed(booked)]
    assert _setting("enable_sort") == "on"


@pytest.mark.django_db(transaction=True)
def test_triage_plans_its_page_of_referrals_as_written_in_the_queues_order(client):
    routine = factories.ReferralFactory()
    urgent = factories.ReferralFactory(
        partnership=routine.partnership, urgency=Urgency.URGENT, submitted_at=routine.submitted_at + timedelta(hours=1)
    )
    client.force_login(factories.advisor(routine.advice_organisation))
    response, hinted = _page_with_hinted_reads(client, reverse("casework:triage"), urgent.reference)
    # The page's referrals and their categories; the counts, duplicates and handovers as usual.
    assert len(hinted) == 2 and 'FROM "referrals_referral"' in hinted[0] and "= ANY(" in hinted[0]
    assert [r.pk for r in response.context["page"].object_list] == [urgent.pk, routine.pk]  # urgent first


@pytest.mark.django_db(transaction=True)
def test_the_referral_page_plans_its_referral_as_written_and_a_stranger_still_gets_404(client):
    referral = factories.ReferralFactory()
    client.force_login(referral.referrer)
    _, hinted = _page_with_hinted_reads(client, reverse("referrals:detail", args=[referral.pk]), referral.reference)
    # The referral with its patient, consent and people, then its categories, steps and consent's changes (and the
    # user's memberships, when its visibility is the first to ask for them).
    read = [re.match(r'SELECT \(?"(\w+)"', sql.removeprefix(JOINS_AS_WRITTEN))[1] for sql in hinted]
    assert [table for table in read if table != "accounts_membership"] == [
        "referrals_referral",
        "referrals_referral_categories",
        "referrals_referralstatuschange",
        "referrals_consentchange",
    ]
    client.force_login(factories.referrer())
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_inside_the_hints_block_only_reads_outside_an_atomic_block_are_hinted():
    case = factories.CaseFactory()
    with joins_as_written(), CaptureQueriesContext(connection) as queries:
        assert Case.objects.filter(pk=case.pk).exists()
        with transaction.atomic():
            assert Case.objects.filter(pk=case.pk).exists()
            assert _setting() != "1"
        Case.objects.filter(pk=case.pk).update(reference="C-HINTED")
    sent = [q["sql"] for q in queries]
    assert [sql.startswith(JOINS_AS_WRITTEN) for sql in sent if "casework_case" in sql] == [True, False, False]
    assert Case.objects.get(pk=case.pk).reference == "C-HINTED" and _setting() != "1"
