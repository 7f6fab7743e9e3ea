"""Every URL, asked for anonymously and by every role, gives the expected status."""

import re

import pytest
from django.urls import reverse

from tests import factories

ANON = "anonymous"
OWNER, OTHER_REFERRER, ADVISOR, OTHER_ADVISOR, SUPERVISOR, MANAGER, FUNDER, ADMIN = (
    "owner referrer", "referrer of another practice", "advisor", "advisor of another service", "supervisor",
    "manager", "funder", "admin",
)
ROLES = [ANON, OWNER, OTHER_REFERRER, ADVISOR, OTHER_ADVISOR, SUPERVISOR, MANAGER, FUNDER, ADMIN]


@pytest.fixture
def people(referral, advisor_user, supervisor_user, manager_user, funder_user):
    return {
        ANON: None,
        OWNER: referral.referrer,
        OTHER_REFERRER: factories.referrer(factories.OrganisationFactory()),
        ADVISOR: advisor_user,
        OTHER_ADVISOR: factories.advisor(),
        SUPERVISOR: supervisor_user,
        MANAGER: manager_user,
        FUNDER: funder_user,
        ADMIN: factories.UserFactory(is_staff=True, is_superuser=True),
    }


def _expect(**by_role):
    """Expected status per role; anonymous users are sent to sign in; unnamed roles get 404."""
    return {role: by_role.get(role.replace(" ", "_"), by_role.get("default", 404)) for role in ROLES} | {
        ANON: by_role.get("anonymous", "login")
    }


EVERYONE_WITH_A_ROLE = dict(owner_referrer=302, referrer_of_another_practice=302, advisor=302,
                            advisor_of_another_service=302, supervisor=302, manager=302, funder=302, admin=302)
MATRIX = {
    "home": _expect(**EVERYONE_WITH_A_ROLE),
    "referrals:home": _expect(owner_referrer=200, referrer_of_another_practice=200),
    "referrals:list": _expect(owner_referrer=200, referrer_of_another_practice=200, advisor=200,
                              advisor_of_another_service=200, supervisor=200),
    "referrals:create": _expect(owner_referrer=200, referrer_of_another_practice=200),
    "referrals:detail": _expect(owner_referrer=200, advisor=200, supervisor=200),
    "referrals:edit": _expect(owner_referrer=302),  # sent referrals are not edited: back to the page
    "referrals:cancel": _expect(owner_referrer=200),
    "referrals:entered_in_error": _expect(owner_referrer=200),
    "referrals:withdraw_consent": _expect(owner_referrer=200, advisor=200, supervisor=200),
    "outcomes:dashboard": _expect(manager=200),
    "outcomes:funder_report": _expect(manager=200, funder=200),
    "admin:index": _expect(default=302, admin=200, anonymous="admin login"),
    "login": _expect(default=302, anonymous=200),
    "password_reset": _expect(default=200, anonymous=200),
}
REFERRAL_URLS = {"referrals:detail", "referrals:edit", "referrals:cancel", "referrals:entered_in_error",
                 "referrals:withdraw_consent"}
CASES = [(name, role, expected) for name, by_role in MATRIX.items() for role, expected in by_role.items()]


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "role", "expected"), CASES, ids=[f"{n}-{r}" for n, r, _ in CASES])
def test_url_by_role(client, people, referral, url_name, role, expected):
    url = reverse(url_name, args=[referral.pk] if url_name in REFERRAL_URLS else [])
    if people[role] is not None:
        client.force_login(people[role])
    response = client.get(url)
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    elif expected == "admin login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(REFERRAL_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_referrer_from_another_organisation_gets_404_on_every_referral_url(client, referral, url_name, method):
    client.force_login(factories.referrer(factories.OrganisationFactory()))
    response = getattr(client, method)(reverse(url_name, args=[referral.pk]), {"reason": "x", "note": "x", "confirm": "on"})
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "submitted" and referral.consent.withdrawn_at is None


@pytest.mark.django_db
def test_a_missing_referral_and_a_forbidden_one_look_the_same(client, referral):
    client.force_login(factories.referrer(factories.OrganisationFactory()))
    forbidden = client.get(reverse("referrals:detail", args=[referral.pk]))
    missing = client.get(reverse("referrals:detail", args=[referral.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    strip = lambda html: re.sub(r'(nonce|value)="[^"]*"', "", html.decode())  # noqa: E731
    assert strip(forbidden.content) == strip(missing.content)


@pytest.mark.django_db
def test_managers_and_funders_see_aggregates_but_no_patient_details(client, referral, manager_user, funder_user):
    for user in (manager_user, funder_user):
        client.force_login(user)
        for url_name in ("outcomes:dashboard", "outcomes:funder_report"):
            html = client.get(reverse(url_name)).content.decode()
            assert referral.patient.family_name not in html and referral.patient.postcode not in html
    client.force_login(manager_user)
    assert client.get(reverse("outcomes:dashboard")).context["summary"].totals.received == 1


@pytest.mark.django_db
def test_a_manager_cannot_read_another_partnerships_dashboard(client, manager_user):
    elsewhere = factories.PartnershipFactory()
    client.force_login(manager_user)
    assert client.get(reverse("outcomes:dashboard"), {"partnership": elsewhere.pk}).status_code == 404


@pytest.mark.django_db
def test_the_admin_log_is_read_only(client, referral):
    admin = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(referral.referrer)
    client.get(reverse("referrals:detail", args=[referral.pk]))
    client.force_login(admin)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
