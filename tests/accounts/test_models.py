import pytest

from hjp.accounts.models import User


@pytest.mark.parametrize(
    ("full_name", "short_name"),
    [
        ("Dr Asha Patel", "Asha"),
        ("Prof. Sam O'Neill", "Sam"),
        ("Asha Patel", "Asha"),
        ("Dr Patel", "Dr Patel"),  # no given name after the title: the whole name, never "Dr" alone
        ("Asha", "Asha"),
    ],
)
def test_the_short_name_is_a_given_name_never_a_title(full_name, short_name):
    assert User(email="a@example.test", full_name=full_name).get_short_name() == short_name


def test_without_a_name_the_short_name_is_the_email_address():
    assert User(email="a@example.test", full_name="").get_short_name() == "a@example.test"
