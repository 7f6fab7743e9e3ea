"""Annualising money (Hypothesis): exact to the penny, proportional, additive, never negative."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from outcomes.models import annualise

pennies = st.integers(min_value=1, max_value=99_999_999)  # up to the field's 10 digits, 2 decimals
PER_YEAR = {"weekly": 52, "four_weekly": 13, "monthly": 12}
periods = st.sampled_from(sorted(PER_YEAR))


def money(p: int) -> Decimal:
    return Decimal(p) / 100


@given(pennies, periods)
def test_a_recurring_amount_is_annualised_exactly_to_the_penny(p, period):
    assert annualise(money(p), period) == money(p * PER_YEAR[period])
    assert annualise(money(p), period).as_tuple().exponent == -2


@given(pennies, pennies, periods)
def test_annualising_is_additive_and_grows_with_the_amount(p, q, period):
    assert annualise(money(p) + money(q), period) == annualise(money(p), period) + annualise(money(q), period)
    assert (annualise(money(p), period) < annualise(money(q), period)) == (p < q)


@given(pennies)
def test_the_same_money_a_week_is_more_a_year_than_a_month(p):
    weekly, four_weekly, monthly = (annualise(money(p), period) for period in ("weekly", "four_weekly", "monthly"))
    assert weekly == 4 * four_weekly and weekly > monthly


@given(st.sampled_from([None, Decimal("0"), Decimal("0.00")]), st.sampled_from([None, "", "weekly"]))
def test_no_amount_or_no_period_is_nothing_a_year(amount, period):
    assert annualise(amount, period) == Decimal("0.00")
