"""The audit log is append-only in the database: a trigger refuses every UPDATE and DELETE of an audit entry,
through the ORM or raw SQL, on PostgreSQL and on the SQLite database of `make run`. Inserts go on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
REFUSED = "audit entries are append-only"


def _entry(actor=None) -> AuditEvent:
    return audit_record(
        actor=actor, action=AuditEvent.Action.CREATE, object_type="tests.thing", object_id="7", summary="kept"
    )


def _saved_entry(entry):
    entry.summary = "rewritten"
    entry.save()


def _raw(sql):
    def run(entry):
        with connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])

    return run


ATTEMPTS = {
    "save() of a changed entry": _saved_entry,
    "QuerySet.update()": lambda entry: AuditEvent.objects.filter(pk=entry.pk).update(summary="rewritten"),
    "Model.delete()": lambda entry: entry.delete(),
    "QuerySet.delete()": lambda entry: AuditEvent.objects.filter(pk=entry.pk).delete(),
    "raw UPDATE": _raw("UPDATE audit_auditevent SET summary = 'rewritten', actor_id = NULL WHERE id = %s"),
    "raw DELETE": _raw("DELETE FROM audit_auditevent WHERE id = %s"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_an_audit_entry_cannot_be_changed_or_deleted(attempt, referrer_user):
    entry = _entry(actor=referrer_user)
    with pytest.raises(IntegrityError, match=REFUSED), transaction.atomic():
        attempt(entry)
    kept = AuditEvent.objects.get(pk=entry.pk)
    assert (kept.summary, kept.actor, kept.at) == ("kept", referrer_user, entry.at)


@pytest.mark.django_db
def test_entries_are_still_written():
    before = AuditEvent.objects.count()
    first, second = _entry(), _entry(actor=factories.UserFactory())
    assert AuditEvent.objects.count() == before + 2
    assert second.pk > first.pk


@pytest.mark.django_db
def test_a_user_with_audit_entries_cannot_be_deleted(referrer_user):
    # The entries name their actor: the foreign key refuses the user's deletion before any row is touched.
    _entry(actor=referrer_user)
    with pytest.raises(ProtectedError), transaction.atomic():
        referrer_user.delete()
    assert AuditEvent.objects.filter(actor=referrer_user).exists()


@pytest.mark.django_db(transaction=True)
def test_the_flush_between_transactional_tests_still_empties_the_table():
    # Django's flush (what pytest-django runs after each transactional and live-server test) empties the tables
    # with TRUNCATE on PostgreSQL, which fires no row trigger.
    _entry()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()


# On SQLite (`make run`), in a fresh database: the triggers are there after `migrate`, and migrating back
# removes them.
SQLITE_CHECK = """
import json
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from hjp.audit.models import AuditEvent

# Written as SQL: migrated back to audit 0001, the table has only that migration's columns.
with connection.cursor() as cursor:
    cursor.execute(
        "INSERT INTO audit_auditevent (action, object_type, object_id, summary, path, at)"
        " VALUES ('create', 'tests.thing', '7', 'kept', '', CURRENT_TIMESTAMP)"
    )
    entry_pk = cursor.lastrowid
attempts = {
    "orm update": lambda: AuditEvent.objects.filter(pk=entry_pk).update(summary="rewritten"),
    "orm delete": lambda: AuditEvent.objects.filter(pk=entry_pk).delete(),
    "raw update": lambda: connection.cursor().execute("UPDATE audit_auditevent SET summary = 'x'"),
    "raw delete": lambda: connection.cursor().execute("DELETE FROM audit_auditevent"),
}
outcome = {}
for name, attempt in attempts.items():
    try:
        with transaction.atomic():
            attempt()
        outcome[name] = "allowed"
    except IntegrityError as exc:
        outcome[name] = str(exc)
outcome["kept"] = AuditEvent.objects.filter(pk=entry_pk).values_list("summary", flat=True).first()
print(json.dumps(outcome))
"""


def test_on_sqlite_too_entries_cannot_be_changed_or_deleted(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hjp.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "hjp.settings.local",
    }

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1]) if args[0] == "shell" else None

    manage("migrate", "--noinput")
    refused = manage("shell", "--no-imports", "-c", SQLITE_CHECK)
    assert refused == {
        "orm update": f"{REFUSED}: UPDATE refused on audit_auditevent",
        "orm delete": f"{REFUSED}: DELETE refused on audit_auditevent",
        "raw update": f"{REFUSED}: UPDATE refused on audit_auditevent",
        "raw delete": f"{REFUSED}: DELETE refused on audit_auditevent",
        "kept": "kept",
    }

    manage("migrate", "--noinput", "audit", "0001")
    allowed = manage("shell", "--no-imports", "-c", SQLITE_CHECK)
    assert allowed == {
        "orm update": "allowed",
        "orm delete": "allowed",
        "raw update": "allowed",
        "raw delete": "allowed",
        "kept": None,
    }
