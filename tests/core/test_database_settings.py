"""Database connections: kept between requests and checked before reuse, PostgreSQL's JIT off, and the settings
for PgBouncer in transaction mode (README, "Performance settings")."""

import pytest
from django.conf import settings
from django.db import connection

from hjp.settings.base import database

URL = "postgres://hjp:secret@db:5432/hjp"


def test_connections_are_kept_for_a_minute_and_checked_before_reuse(monkeypatch):
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    config = database(URL, pgbouncer=False)
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
    assert database(URL, pgbouncer=False)["CONN_MAX_AGE"] == 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_postgresql_connections_start_with_jit_off_and_keep_options_of_the_url():
    assert database(URL, pgbouncer=False)["OPTIONS"] == {"options": "-c jit=off", "connect_timeout": 5}
    with_options = database(f"{URL}?options=-c%20statement_timeout%3D5000", pgbouncer=False)
    assert with_options["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"
    assert not database("sqlite:///db.sqlite3", pgbouncer=False).get("OPTIONS", {}).get("options")


@pytest.mark.django_db
def test_the_database_hjp_talks_to_has_jit_off():
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_behind_pgbouncer_no_startup_options_and_no_server_side_cursors():
    config = database(URL, pgbouncer=True)
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert not config.get("OPTIONS", {}).get("options")


def test_a_new_postgresql_connection_gives_up_after_a_few_seconds(monkeypatch):
    """libpq waits for ever for a server that accepts and does not answer; a request (and the readiness probe)
    must not."""
    monkeypatch.delenv("DATABASE_CONNECT_TIMEOUT", raising=False)
    assert database(URL, pgbouncer=True)["OPTIONS"]["connect_timeout"] == 5
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "3")
    assert database(URL, pgbouncer=False)["OPTIONS"]["connect_timeout"] == 3
    assert "connect_timeout" not in database("sqlite:///db.sqlite3", pgbouncer=False).get("OPTIONS", {})
