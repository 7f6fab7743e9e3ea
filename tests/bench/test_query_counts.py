"""The benchmark's pages (bench/pages.py, the list `make bench` measures) on a generated history at two sizes:
each takes the same number of queries with 60 referrals as with 300, and exactly the number pinned here.
Not timed: speed is measured by `make bench`, never in the test suite."""

import pytest

from bench.pages import PAGES
from bench.queries import page_query_counts
from outcomes.scale import seed_scale_history

pytestmark = pytest.mark.django_db

# What every signed-in page costs (session, user, device, memberships, unread count, audit entry) and its own
# reads. These shrink as the per-request overhead and the pages are made leaner (issue 12's target: at most 10).
PINNED = {
    "referrer home": 9,
    "My referrals": 8,
    "referral": 11,
    "inbox": 8,
    'advisor home "Today"': 11,
    "advisor's referrals": 8,
    "advisor's referrals, page 2000": 7,
    "triage": 10,
    "caseload": 9,
    "whole-service caseload": 11,
    "case with many notes": 18,
    "manager dashboard": 12,
    "funder report": 12,
    "funder CSV": 12,
    "admin: Referral changelist": 10,
}


def _grow(settings, referrals: int) -> dict[str, int]:
    settings.DEBUG = True  # seed_scale's demo accounts exist only with DEBUG on
    seed_scale_history(referrals=referrals, say=lambda line: None)
    settings.DEBUG = False
    counts, _ = page_query_counts()
    return counts


def test_every_benchmark_page_takes_the_same_pinned_number_of_queries_at_60_and_300_referrals(settings):
    small = _grow(settings, 60)
    large = _grow(settings, 240)
    assert set(small) == {page.name for page in PAGES}
    assert {name: (small[name], large[name]) for name in small if small[name] != large[name]} == {}
    assert large == PINNED


def test_the_bare_view_is_only_in_the_bench_settings_urls():
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("bench_bare")
