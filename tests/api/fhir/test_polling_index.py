"""Polling for changes (`Task?_lastUpdated=gt<last seen>`, oldest change first) is read from an index: the plan
PostgreSQL makes for the very query the search sends walks `referral_updated_idx` (updated_at, id), entered at the
_lastUpdated bound, with no sort. A few rows suffice: the planner is told not to scan or sort the small table."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from api.fhir import queries
from referrals.models import Referral
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_index_exists_on_updated_at_and_id():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Referral._meta.db_table)
    assert constraints["referral_updated_idx"]["columns"] == ["updated_at", "id"]
    assert constraints["referral_updated_idx"]["index"]


def test_a_poll_by_last_updated_reads_the_updated_at_index(advice_client, health_org, partnership):
    # The suite runs on PostgreSQL (make test, CI): the plan read below is PostgreSQL's EXPLAIN.
    assert connection.vendor == "postgresql"
    for _ in range(6):
        factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    rows, used = queries.task_search_rows(
        advice_client.client.service_user, QueryDict(f"_lastUpdated=gt{since.replace('+', '%2B')}")
    )
    assert used == [("_lastUpdated", f"gt{since}")]
    assert rows.count() == 6
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE referrals_referral")
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
    plan = rows[:21].explain()
    assert "referral_updated_idx" in plan, plan
    assert "Index Cond: (updated_at >" in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan
