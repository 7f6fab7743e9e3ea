"""The benchmark's databases: made on the PostgreSQL server when missing."""

import dj_database_url
import psycopg2


def ensure_database(url: str) -> bool:
    """Create the database `url` names unless it exists (through the server's `postgres` database). True if it
    was created."""
    parts = dj_database_url.parse(url)
    server = psycopg2.connect(
        dbname="postgres",
        user=parts["USER"],
        password=parts["PASSWORD"],
        host=parts["HOST"],
        port=parts["PORT"] or 5432,
    )
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parts["NAME"]])
            if cursor.fetchone() is not None:
                return False
            cursor.execute(f'CREATE DATABASE "{parts["NAME"]}"')
            return True
    finally:
        server.close()


def referral_count(url: str) -> int:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM referrals_referral")
            return cursor.fetchone()[0]
    finally:
        connection.close()
