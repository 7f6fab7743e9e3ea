import pytest

from hjp.accounts.models import Role
from tests import factories


@pytest.fixture
def health_org(db):
    return factories.OrganisationFactory(name="Riverside Surgery")


@pytest.fixture
def other_health_org(db):
    return factories.OrganisationFactory(name="Elsewhere Practice")


@pytest.fixture
def partnership(db, health_org):
    return factories.PartnershipFactory(health_organisations=[health_org])


@pytest.fixture
def advice_org(partnership):
    return partnership.advice_organisation


@pytest.fixture
def referrer_user(health_org):
    return factories.referrer(health_org)


@pytest.fixture
def advisor_user(advice_org):
    return factories.advisor(advice_org)


@pytest.fixture
def supervisor_user(advice_org):
    return factories.advisor(advice_org, supervisor=True)


@pytest.fixture
def manager_user(partnership):
    return factories.partnership_member(partnership, Role.MANAGER)


@pytest.fixture
def funder_user(partnership):
    return factories.partnership_member(partnership, Role.FUNDER)


@pytest.fixture
def referral(referrer_user, health_org, partnership):
    return factories.ReferralFactory(referrer=referrer_user, referring_organisation=health_org, partnership=partnership)


@pytest.fixture
def as_user(client):
    """Sign the test client in as the given user and return it."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
