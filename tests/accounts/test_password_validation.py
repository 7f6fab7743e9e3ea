"""Passwords built from the user's own name or their organisation's name are refused, on every form that sets one."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from hjp.accounts.models import Role, User
from tests import factories

pytestmark = pytest.mark.django_db

MESSAGE = "Your password must not contain your name or the name of your organisation"
GOOD = "quiet violet harbour lantern"


@pytest.fixture
def asha():
    organisation = factories.OrganisationFactory(name="Riverside Surgery")
    return factories.referrer(organisation, user__full_name="Dr Asha Patel-Okafor")


@pytest.mark.parametrize(
    "password",
    [
        "AshaPatel2026!!",
        "okafor.okafor.okafor",
        "P4t3l-is-my-name-1",  # look-alike digits
        "@sha-rules-the-ward",  # and symbols
        "RIVERSIDE-rules-2026",  # the organisation's name
        "s.u.r.g.e.r.y...surgery",
    ],
)
def test_a_password_made_of_the_users_name_or_organisation_is_refused(asha, password):
    with pytest.raises(ValidationError, match=MESSAGE):
        validate_password(password, asha)


@pytest.mark.parametrize("password", [GOOD, "drum and bass forever", "correct-horse-battery-staple"])
def test_a_password_without_them_is_taken(asha, password):
    validate_password(password, asha)  # "Dr", a title, is no name to refuse


def test_a_three_letter_name_counts_where_a_word_of_the_password_begins_or_ends_not_inside_another():
    ian = factories.UserFactory(full_name="Ian Fox")
    validate_password("giant orange piano", ian)
    for password in ("ian-orange-piano", "orange-piano-ian", "1an1an1an1an", "orange Foxes piano"):
        with pytest.raises(ValidationError, match=MESSAGE):
            validate_password(password, ian)


def test_accents_do_not_hide_a_name():
    zoe = factories.UserFactory(full_name="Zoë Ellis-Brontë")
    for password in ("zoe-zoe-zoe-2026", "BRONTE-sisters-99"):
        with pytest.raises(ValidationError, match=MESSAGE):
            validate_password(password, zoe)


def test_a_partnerships_name_counts_for_its_managers_and_funders():
    partnership = factories.PartnershipFactory(name="Northbridge Health Justice")
    manager = factories.partnership_member(partnership, Role.MANAGER)
    with pytest.raises(ValidationError, match=MESSAGE):
        validate_password("northbridge-2026-!!", manager)


def test_the_password_change_page_refuses_it_and_says_why(client, asha):
    client.force_login(asha)
    data = {"old_password": factories.PASSWORD, "new_password1": "AshaPatel2026!!", "new_password2": "AshaPatel2026!!"}
    response = client.post(reverse("password_change"), data)
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    asha.refresh_from_db()
    assert asha.check_password(factories.PASSWORD)


def test_the_reset_page_refuses_it_and_says_why(client, asha):
    uid = urlsafe_base64_encode(force_bytes(asha.pk))
    link = reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(asha)])
    form_url = client.get(link)["Location"]
    data = {"new_password1": "riverside-surgery-1", "new_password2": "riverside-surgery-1"}
    response = client.post(form_url, data)
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    asha.refresh_from_db()
    assert asha.check_password(factories.PASSWORD)
    assert client.post(form_url, {"new_password1": GOOD, "new_password2": GOOD}).status_code == 302
    asha.refresh_from_db()
    assert asha.check_password(GOOD)


def test_the_admin_forms_refuse_it(client, asha):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True, full_name="Site Admin"))
    change = reverse("admin:auth_user_password_change", args=[asha.pk])
    data = {"password1": "Okafor-Okafor-2026", "password2": "Okafor-Okafor-2026", "usable_password": "true"}
    response = client.post(change, data)
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    asha.refresh_from_db()
    assert asha.check_password(factories.PASSWORD)
    add = reverse("admin:accounts_user_add")
    new_user = {
        "email": "sam@example.test",
        "full_name": "Samira Haddad",
        "password1": "haddad-haddad-1",
        "password2": "haddad-haddad-1",
        "usable_password": "true",
    }
    response = client.post(add, new_user)
    assert response.status_code == 200 and MESSAGE in response.content.decode()
    assert not User.objects.filter(email="sam@example.test").exists()
