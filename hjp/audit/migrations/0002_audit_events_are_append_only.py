# The audit log is append-only in the database itself, not only read-only in the admin: a trigger refuses every
# UPDATE and DELETE of an audit entry, whoever sends it (the ORM, raw SQL, a database shell). Inserts go on.
# TRUNCATE fires no row trigger, so the test suite's flush between transactional tests still empties the table.
#
# PostgreSQL raises SQLSTATE 23001 (restrict_violation) and SQLite RAISE(ABORT), which Django reports as an
# IntegrityError on both. On SQLite a later migration that rebuilds this table (Django remakes the table to
# alter a column) drops the triggers: such a migration must create them again (tests/audit/test_append_only.py
# checks them on a freshly migrated SQLite database).

from django.db import migrations

MESSAGE = "audit entries are append-only"

POSTGRESQL = f"""
CREATE FUNCTION audit_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}: % refused on audit_auditevent', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER audit_auditevent_append_only ON audit_auditevent;
DROP FUNCTION audit_auditevent_append_only();
"""

SQLITE = [
    f"""CREATE TRIGGER audit_auditevent_no_{operation.lower()} BEFORE {operation} ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused on audit_auditevent'); END"""
    for operation in ("UPDATE", "DELETE")
]
SQLITE_REVERSE = ["DROP TRIGGER audit_auditevent_no_update", "DROP TRIGGER audit_auditevent_no_delete"]


def _run(schema_editor, *, postgresql, sqlite):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [postgresql], "sqlite": sqlite}.get(vendor)
    if statements is None:
        raise NotImplementedError(
            f"No append-only trigger for the {vendor} database: hjp runs on PostgreSQL or SQLite."
        )
    for statement in statements:
        schema_editor.execute(statement, params=None)


def refuse_updates_and_deletes(apps, schema_editor):
    _run(schema_editor, postgresql=POSTGRESQL, sqlite=SQLITE)


def allow_updates_and_deletes(apps, schema_editor):
    _run(schema_editor, postgresql=POSTGRESQL_REVERSE, sqlite=SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_updates_and_deletes, allow_updates_and_deletes, elidable=False),
    ]
