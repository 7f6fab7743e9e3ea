"""With a read replica (DATABASE_REPLICA_URL), the pages that only add figures up read them from it; what every
page reads before its view (session, the user with its devices and inbox count, memberships) and every write (the CSV's audit entry) stay on the
primary. Tested with Django's test mirror: the "replica" alias is a second connection to the test database."""

import socket

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hjp.audit.models import AuditEvent
from hjp.core.db_routers import forget_replica_state
from tests.outcomes.test_dashboard import PERIOD, World

# A second connection sees only committed rows: the test commits its data (transaction=True).
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

BEFORE_THE_VIEW = ('"django_session"', '"accounts_user"', '"accounts_membership"')
# Whether any referral waits to be counted is asked of the primary: the running totals are brought up to date
# there (outcomes.running_figures), never on a replica.
PENDING = '"outcomes_figurespending"'
FIGURES = 'FROM "outcomes_figurecell"'


def _tables(queries, tables):
    return [next((t for t in tables if f"FROM {t}" in sql), sql) for sql in queries]


@pytest.fixture
def with_replica(settings):
    settings.READ_FROM_REPLICA = True


def _get(client, url_name):
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(reverse(url_name), PERIOD)
    assert response.status_code == 200
    return response, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in replica.captured_queries]


@pytest.mark.parametrize("url_name", ["outcomes:dashboard", "outcomes:funder_report"])
def test_the_figure_pages_read_their_figures_from_the_replica(as_user, with_replica, url_name):
    world = World()
    response, primary, replica = _get(as_user(world.manager), url_name)
    assert _tables(primary, (*BEFORE_THE_VIEW, PENDING)) == [*BEFORE_THE_VIEW, PENDING]
    assert any(FIGURES in sql for sql in replica)
    assert not [sql for sql in replica if not sql.lstrip("(").startswith("SELECT")]
    assert world.partnership.name in response.content.decode()


def test_the_funder_csv_is_read_from_the_replica_and_audited_on_the_primary(as_user, with_replica):
    world = World()
    response, primary, replica = _get(as_user(world.funder), "outcomes:funder_report_csv")
    assert _tables(primary[: len(BEFORE_THE_VIEW) + 1], (*BEFORE_THE_VIEW, PENDING)) == [*BEFORE_THE_VIEW, PENDING]
    assert [sql.split(" (")[0] for sql in primary[len(BEFORE_THE_VIEW) + 1 :]] == ['INSERT INTO "audit_auditevent"']
    assert replica and not [sql for sql in replica if not sql.lstrip("(").startswith("SELECT")]
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).actor == world.funder
    assert response["Content-Type"].startswith("text/csv")


def test_a_page_showing_what_its_user_writes_reads_from_the_primary(as_user, with_replica, referrer_user):
    _, primary, replica = _get(as_user(referrer_user), "referrals:list")
    assert replica == [] and any('FROM "referrals_referral"' in sql for sql in primary)


def test_without_a_replica_the_figure_pages_read_from_the_primary(as_user):
    world = World()
    _, primary, replica = _get(as_user(world.manager), "outcomes:dashboard")
    assert replica == [] and any(FIGURES in sql for sql in primary)


def test_with_the_replica_down_the_figure_pages_read_from_the_primary_then_from_the_replica_again(
    as_user, with_replica, caplog
):
    world = World()
    replica = connections["replica"]
    replica.close()
    port = replica.settings_dict["PORT"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        replica.settings_dict["PORT"] = sock.getsockname()[1]  # nothing listens there once the socket closes
    try:
        with CaptureQueriesContext(connections["default"]) as primary:  # (the replica cannot be watched: it is down)
            response = as_user(world.manager).get(reverse("outcomes:dashboard"), PERIOD)
        assert response.status_code == 200 and world.partnership.name in response.content.decode()
        assert any(FIGURES in sql for sql in (q["sql"] for q in primary.captured_queries))
        assert "The read replica does not answer (OperationalError)" in caplog.text
        replica.settings_dict["PORT"] = port  # back: not asked again before REPLICA_RETRY_SECONDS
        _, primary, replica_queries = _get(as_user(world.funder), "outcomes:funder_report")
        assert replica_queries == [] and any(FIGURES in sql for sql in primary)
        forget_replica_state()  # (the half minute has passed)
        _, primary, replica_queries = _get(as_user(world.funder), "outcomes:funder_report")
        assert any(FIGURES in sql for sql in replica_queries)
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port
        forget_replica_state()
