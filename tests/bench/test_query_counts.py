"""The benchmark's pages (bench/pages.py, the list `make bench` measures) on a generated history at two sizes:
each takes the same number of queries with 60 referrals as with 300, and exactly the number pinned here.
Not timed: speed is measured by `make bench`, never in the test suite."""

import pytest

from bench.pages import PAGES
from bench.queries import page_query_counts
from outcomes.scale import seed_scale_history

pytestmark = pytest.mark.django_db

# What every signed-in page costs: three reads before the view (the session; the user with its unread count and
# second-factor devices; the memberships), its own reads and its audit entry. Issue 12's target: at most 10.
PINNED = {
    "referrer home": 6,
    "My referrals": 6,
    "referral": 9,
    "inbox": 6,
    'advisor home "Today"': 10,
    "advisor's referrals": 6,
    "advisor's referrals, page 2000": 6,
    "triage": 9,
    "caseload": 7,
    "whole-service caseload": 9,
    "case with many notes": 10,
    "manager dashboard": 8,
    "engagement": 7,
    "funder report": 9,  # the case studies included in it
    "funder CSV": 9,
    "admin: Referral changelist": 8,
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
    assert {name: n for name, n in large.items() if n > 10} == {}  # the target


def test_the_bare_view_is_only_in_the_bench_settings_urls():
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("bench_bare")
