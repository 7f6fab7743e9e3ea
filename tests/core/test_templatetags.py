import pytest

from hjp.core.templatetags.hjp_tags import nhs_number


@pytest.mark.parametrize(("stored", "shown"), [
    ("4198145903", "419 814 5903"),
    ("419 814 5903", "419 814 5903"),
    ("", ""),
    (None, ""),
    ("12345", "12345"),  # not an NHS number: shown as it is
])
def test_nhs_numbers_read_in_groups_of_three_three_and_four(stored, shown):
    assert nhs_number(stored) == shown
