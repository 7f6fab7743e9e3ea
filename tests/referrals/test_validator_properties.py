"""Properties of the NHS number and postcode rules, over generated input (Hypothesis)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from referrals.validators import (
    NHS_NUMBER_WEIGHTS,
    UK_POSTCODE,
    nhs_number_is_valid,
    normalise_postcode,
    validate_nhs_number,
    validate_postcode,
)

nine_digits = st.lists(st.integers(0, 9), min_size=9, max_size=9)


def check_digit(digits: list[int]) -> int | None:
    """The modulus-11 check digit, worked out here independently of the code under test; None when the
    nine digits have none (the remainder gives 10), so no NHS number starts with them."""
    remainder = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
    return {11: 0, 10: None}.get(remainder, remainder)


@st.composite
def nhs_numbers(draw) -> str:
    digits = draw(nine_digits)
    check = check_digit(digits)
    assume(check is not None)
    return "".join(map(str, [*digits, check]))


def test_the_weights_are_the_nhs_ones():
    assert list(NHS_NUMBER_WEIGHTS) == [10, 9, 8, 7, 6, 5, 4, 3, 2]


@given(nhs_numbers(), st.sampled_from(["", " ", "-"]), st.sampled_from(["", " "]))
def test_a_valid_nhs_number_passes_however_it_is_spaced(number, separator, around):
    typed = around + separator.join([number[:3], number[3:6], number[6:]]) + around
    assert nhs_number_is_valid(typed)
    validate_nhs_number(typed)


@given(nhs_numbers(), st.integers(0, 9), st.integers(1, 9))
def test_changing_any_one_digit_of_a_valid_nhs_number_makes_it_fail(number, position, shift):
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not nhs_number_is_valid(changed)
    with pytest.raises(ValidationError) as refused:
        validate_nhs_number(changed)
    assert refused.value.code == "nhs_checksum"


@given(nhs_numbers(), st.integers(0, 8))
def test_swapping_two_neighbouring_digits_makes_it_fail(number, position):
    assume(number[position] != number[position + 1])
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert not nhs_number_is_valid(swapped)


@st.composite
def nine_digits_with_no_check_digit(draw) -> list[int]:
    """Eight digits, then the ninth that leaves a weighted sum of 1 modulo 11 (check digit 10: none). Built, not
    filtered: only one nine-digit start in eleven has no check digit."""
    eight = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    partial = sum(d * w for d, w in zip(eight, range(10, 2, -1), strict=True))
    ninth = (1 - partial) * 6 % 11  # 6 is the inverse of the last weight, 2, modulo 11
    assume(ninth < 10)
    return [*eight, ninth]


@given(nine_digits_with_no_check_digit(), st.integers(0, 9))
def test_nine_digits_with_no_check_digit_are_no_ones_number(digits, last):
    assert check_digit(digits) is None
    assert not nhs_number_is_valid("".join(map(str, [*digits, last])))


@given(st.text(alphabet="0123456789 -", max_size=14).filter(lambda s: len(s.replace(" ", "").replace("-", "")) != 10))
def test_anything_but_ten_digits_is_refused_as_the_wrong_format(typed):
    with pytest.raises(ValidationError) as refused:
        validate_nhs_number(typed)
    assert refused.value.code == "nhs_format"


postcodes = st.from_regex(UK_POSTCODE, fullmatch=True)


@st.composite
def as_typed(draw, postcode: str) -> str:
    """The postcode as someone might type it: any case, spaces anywhere."""
    characters = [
        draw(st.sampled_from([c.lower(), c.upper()])) + draw(st.sampled_from(["", " ", "  "])) for c in postcode
    ]
    return draw(st.sampled_from(["", " "])) + "".join(characters)


@given(st.text(max_size=20))
def test_normalising_a_postcode_twice_changes_nothing_more(typed):
    once = normalise_postcode(typed)
    assert normalise_postcode(once) == once


@given(postcodes.flatmap(lambda postcode: st.tuples(st.just(postcode), as_typed(postcode))))
def test_a_real_postcode_however_typed_is_accepted_and_stored_one_way(postcode_and_typed):
    postcode, typed = postcode_and_typed
    validate_postcode(typed)
    stored = normalise_postcode(typed)
    assert stored == normalise_postcode(postcode) == f"{postcode[:-3]} {postcode[-3:]}"
    assert stored == stored.upper() and stored.count(" ") == 1
    validate_postcode(stored)
