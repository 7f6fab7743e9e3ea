"""Counts capped for pages about open work (hjp.core.counting): exact up to the cap, "N+" beyond it, in one query
however many counts a page asks for."""

import pytest
from django.template import engines

from hjp.core.counting import Capped, capped_count, capped_counts
from referrals.models import Referral, Urgency
from tests import factories

pytestmark = pytest.mark.django_db


def test_counts_are_exact_up_to_the_cap_and_shown_with_a_plus_beyond_it(django_assert_num_queries):
    factories.ReferralFactory.create_batch(3, urgency=Urgency.URGENT)
    factories.ReferralFactory.create_batch(2, urgency=Urgency.ROUTINE)
    everything, urgent = Referral.objects.all(), Referral.objects.filter(urgency=Urgency.URGENT)
    with django_assert_num_queries(1):
        counts = capped_counts(4, all=everything, urgent=urgent, none=Referral.objects.none().filter(pk=0))
    assert counts == {"all": Capped(4, more=True), "urgent": 3, "none": 0}
    assert counts["all"] != 4 and counts["urgent"] == 3
    page = engines["django"].from_string(
        "{{ counts.all }} waiting, {{ counts.urgent }} urgent{% if not counts.none %}, none else{% endif %}"
    )
    assert page.render({"counts": counts}) == "4+ waiting, 3 urgent, none else"
    assert str(capped_count(everything, cap=5)) == "5"
    assert str(capped_count(everything, cap=1000)) == "5"


def test_a_capped_count_adds_up_and_compares_as_the_number_it_stands_for():
    assert Capped(3) + Capped(4) == 7
    assert str(Capped(1000, more=True) + Capped(2)) == "1,002+"
    assert sum([Capped(1), Capped(2)]) == 3
    assert Capped(2) < 3 and not Capped(5, more=True) < 5 and Capped(5, more=True) > 4
    assert not Capped(1000, more=True) < 1001 and Capped(1000, more=True) >= 1001  # "1,000+" is at least 1,001
    assert int(Capped(1000, more=True)) == 1000
