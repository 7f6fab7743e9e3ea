import os

import pytest
import redis
from hypothesis import settings as hypothesis_settings

from hjp.accounts.models import Role
from tests import factories
from tests.support.auth import Client

# Property-based tests stay fast: a modest number of examples, and no per-example deadline (a database round
# trip has no fixed duration). HYPOTHESIS_PROFILE=thorough tries many more.
hypothesis_settings.register_profile("hjp", max_examples=60, deadline=None)
hypothesis_settings.register_profile("thorough", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "hjp"))


@pytest.fixture(autouse=True)
def _worker_memory_of_settled_messages():
    """Each test starts as a fresh worker process would: remembering no message as delivered."""
    from hjp.notifications.services import forget_settled

    forget_settled()
    yield
    forget_settled()


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
def client():
    """Django's test client, whose `force_login` passes the second step as well as the password (with the
    user's authenticator app, set up if they have none): `force_login(user, second_factor=False)` stops after
    the password. See tests/support/auth.py."""
    return Client()


@pytest.fixture
def as_user(client):
    """Sign the test client in as the given user, with both factors, and return it."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def redis_url():
    """The real Redis that CI starts (make test sets REDIS_URL); a test needing it fails without it."""
    url = os.environ.get("REDIS_URL")
    assert url, "REDIS_URL must point at a running Redis for the Celery worker tests"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def celery_worker(redis_url, tmp_path, transactional_db):
    """A real Celery worker on the real broker and the test database; this process publishes to it."""
    from tests.support.celery_worker import celery_publishing_to, start_worker

    with celery_publishing_to(redis_url):
        running = start_worker(broker_url=redis_url, workdir=tmp_path)
        yield running
        running.stop()


@pytest.fixture(autouse=True)
def problem_categories(request):
    """The reference lists the data migrations write (categories and their sub-categories). Transactional tests
    flush every table when they end, so they are written again for each database test that follows one."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from importlib import import_module

    from referrals.models import ProblemCategory, ProblemSubCategory

    for position, (code, name) in enumerate(import_module("referrals.migrations.0002_problem_categories").CATEGORIES):
        ProblemCategory.objects.get_or_create(code=code, defaults={"name": name, "position": position})
    if not ProblemSubCategory.objects.exists():
        sub_categories = import_module("referrals.migrations.0008_problem_sub_categories").SUB_CATEGORIES
        categories = {category.code: category for category in ProblemCategory.objects.all()}
        ProblemSubCategory.objects.bulk_create(
            ProblemSubCategory(category=categories[category_code], code=code, name=name, position=position)
            for category_code, subs in sub_categories.items()
            for position, (code, name) in enumerate(subs)
        )


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3-compatible server on a free loopback port, for the whole run."""
    from tests.support.s3 import start_server

    server, endpoint_url = start_server()
    yield endpoint_url
    server.stop()


@pytest.fixture
def evidence_bucket(s3_server, settings, monkeypatch):
    """Evidence kept in a new, empty bucket of the loopback S3 server (EVIDENCE_STORAGE=s3), as production would
    configure it from the environment."""
    from tests.support.s3 import CREDENTIALS, REGION, new_bucket

    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = new_bucket(s3_server)
    settings.EVIDENCE_STORAGE = "s3"
    settings.AWS_STORAGE_BUCKET_NAME = bucket.name
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_S3_REGION_NAME = REGION
    settings.AWS_LOCATION = "private"
    return bucket
