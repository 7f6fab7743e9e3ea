import pytest

from hjp.core.templatetags.hjp_tags import nhs_number


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("4198145903", "419 814 5903"),
        ("419 814 5903", "419 814 5903"),
        ("", ""),
        (None, ""),
        ("12345", "12345"),  # not an NHS number: shown as it is
    ],
)
def test_nhs_numbers_read_in_groups_of_three_three_and_four(stored, shown):
    assert nhs_number(stored) == shown


def test_an_nhs_number_typed_with_dashes_is_shown_like_every_other():
    from hjp.core.nhs_number import format_nhs_number

    assert format_nhs_number("943-476-5919") == format_nhs_number(" 9434765919 ") == "943 476 5919"
