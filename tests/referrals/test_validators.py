import pytest
from django.core.exceptions import ValidationError

from referrals.validators import nhs_number_is_valid, normalise_postcode, validate_nhs_number, validate_postcode


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919", "4010232137"])
def test_valid_nhs_numbers_pass_the_modulus_11_check(number):
    validate_nhs_number(number)
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("9434765918", "check digit"),  # wrong check digit
        ("9434765910", "check digit"),
        ("1000000010", "check digit"),  # remainder gives a check digit of 10: never valid
        ("94347659", "10 digits"),
        ("94347659199", "10 digits"),
        ("94347A5919", "10 digits"),
    ],
)
def test_invalid_nhs_numbers_are_refused_with_a_reason(number, message):
    with pytest.raises(ValidationError) as exc:
        validate_nhs_number(number)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize(
    ("postcode", "stored"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("LS6 2AB", "LS6 2AB"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("w1a0ax", "W1A 0AX"),
    ],
)
def test_uk_postcodes_are_accepted_and_stored_in_one_form(postcode, stored):
    assert validate_postcode(postcode) is None  # raises ValidationError when refused
    assert normalise_postcode(postcode) == stored


@pytest.mark.parametrize("postcode", ["12345", "SW1A", "QX1 1AA", "LS6 2AI", "LS6 AB"])
def test_malformed_postcodes_are_refused(postcode):
    with pytest.raises(ValidationError):
        validate_postcode(postcode)


def test_postcodes_are_normalised_to_upper_case_with_one_space():
    assert normalise_postcode(" ls6  2ab ") == "LS6 2AB"
